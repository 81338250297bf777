package routing

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/sagegate/sagegate/internal/identity"
)

// StoreResolver resolves principals against a Store (or anything that
// reads like one, such as a cache in front of it).
type StoreResolver struct {
	store Reader
	log   *slog.Logger
}

var _ Resolver = (*StoreResolver)(nil)

// NewResolver returns a Resolver over store. A nil logger discards.
func NewResolver(store Reader, logger *slog.Logger) *StoreResolver {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &StoreResolver{store: store, log: logger}
}

// Targets returns what p may open: one Studio target per LOB granted by p's
// user record or by any of p.Groups, direct LOBs first in record order, then
// group LOBs in group order, each once; each followed by the LOB's notebook
// targets (notebook.go), and at the end the notebooks of p's own record.
//
// A person need not have a user record: group mappings alone grant LOBs. A
// disabled record wins over every group and yields ErrUserDisabled. Having
// nothing is not an error: (nil, nil) lets the caller answer "no targets".
// Bad data (a LOB that is referenced but missing or invalid, an invalid
// group mapping, a username that cannot be mapped to a profile) costs only
// the targets concerned and is logged, because one broken route must not lock a person out of the others.
// An invalid user record is an error: it might have said "disabled". Store
// failures are returned: a partial list would look like a permission change.
func (r *StoreResolver) Targets(ctx context.Context, p *identity.Principal) ([]Target, error) {
	if p == nil {
		return nil, errors.New("routing: nil principal")
	}
	user, err := r.store.GetUser(ctx, p.Username)
	switch {
	case err == nil:
		if user.Disabled {
			return nil, fmt.Errorf("%w: %q", ErrUserDisabled, p.Username)
		}
	case errors.Is(err, ErrNotFound):
		user = User{}
	default:
		return nil, fmt.Errorf("routing: user %q: %w", p.Username, err)
	}

	names := appendUnique(make([]string, 0, len(user.LOBs)), user.LOBs)
	for _, g := range p.Groups {
		lobs, err := r.store.GroupLOBs(ctx, g)
		if errors.Is(err, ErrInvalid) {
			r.log.WarnContext(ctx, "routing: skipping a group whose mapping is invalid",
				"user", p.Username, "group", g, "err", err)
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("routing: group %q: %w", g, err)
		}
		names = appendUnique(names, lobs)
	}
	if len(names) == 0 && len(user.Notebooks) == 0 {
		return nil, nil
	}

	targets := make([]Target, 0, len(names))
	var missing []string
	lobs := make(map[string]LOB, len(names))
	for _, name := range names {
		lob, err := r.store.GetLOB(ctx, name)
		if errors.Is(err, ErrNotFound) {
			missing = append(missing, name)
			continue
		}
		if errors.Is(err, ErrInvalid) {
			r.log.WarnContext(ctx, "routing: skipping target, its LOB record is invalid",
				"user", p.Username, "lob", name, "err", err)
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("routing: LOB %q: %w", name, err)
		}
		t, err := TargetFor(lob, user.Profile, p.Username)
		if err != nil {
			r.log.WarnContext(ctx, "routing: skipping target, no user-profile name",
				"user", p.Username, "lob", name, "err", err)
			continue
		}
		targets = append(targets, t)
		targets = appendNew(targets, NotebookTargets(lob, p.Username)...)
		lobs[name] = lob
	}
	// The person's own notebooks may be in LOBs they have no Studio in.
	for _, ref := range user.Notebooks {
		lob, ok := lobs[ref.LOB]
		if !ok {
			lob, err = r.store.GetLOB(ctx, ref.LOB)
			if errors.Is(err, ErrNotFound) || errors.Is(err, ErrInvalid) {
				r.log.WarnContext(ctx, "routing: skipping a notebook whose LOB is missing or invalid",
					"user", p.Username, "lob", ref.LOB, "notebook", ref.Name, "err", err)
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("routing: LOB %q: %w", ref.LOB, err)
			}
			lobs[ref.LOB] = lob
		}
		targets = appendNew(targets, UserNotebookTarget(lob, ref, p.Username))
	}
	if len(missing) > 0 {
		r.log.WarnContext(ctx, "routing: skipping LOBs that are referenced but do not exist",
			"user", p.Username, "lobs", missing)
	}
	if len(targets) == 0 {
		return nil, nil
	}
	return targets, nil
}

// appendNew appends the targets whose id is not yet in dst: a vended
// notebook may be both a template's target and in the person's record.
func appendNew(dst []Target, ts ...Target) []Target {
	for _, t := range ts {
		if !slices.ContainsFunc(dst, func(d Target) bool { return d.ID == t.ID }) {
			dst = append(dst, t)
		}
	}
	return dst
}

// appendUnique appends the names not yet in dst. A linear scan beats a map
// for the handful of LOBs a person has, and allocates nothing.
func appendUnique(dst, names []string) []string {
	for _, n := range names {
		if !slices.Contains(dst, n) {
			dst = append(dst, n)
		}
	}
	return dst
}

// userProfile is the override when the user record has one, else the LOB's
// rule applied to the username. The username, not the email claim, feeds the
// rule: access tokens often lack the email, and the same person must land on
// the same profile whatever token they came with.
func userProfile(override, rule, username string) (string, error) {
	if override == "" {
		return ProfileName(rule, username)
	}
	if !ValidProfileName(override) {
		return "", fmt.Errorf("%w: profile override %q is not a valid Studio user-profile name", ErrProfileName, override)
	}
	return override, nil
}

// TargetFor is the target that username, whose record overrides the
// profile name with override (or not, when empty), has in LOB l. It fails
// with ErrProfileName when no valid user-profile name results.
func TargetFor(l LOB, override, username string) (Target, error) {
	profile, err := userProfile(override, l.ProfileRule, username)
	if err != nil {
		return Target{}, err
	}
	return newTarget(l, profile), nil
}

func newTarget(l LOB, profile string) Target {
	label := l.Label
	if label == "" {
		label = l.Name
	}
	space := l.Space
	if l.PrivateSpace {
		// Space names share the profile-name pattern, and a private space
		// named after its owner is one an administrator can recognise.
		space = profile
	}
	return Target{
		ID:              l.Name,
		Kind:            KindStudio,
		Label:           label,
		LOB:             l.Name,
		AccountID:       l.AccountID,
		Region:          l.Region,
		DomainID:        l.DomainID,
		UserProfile:     profile,
		Space:           space,
		LandingURI:      l.LandingURI,
		RoleARN:         l.RoleARN,
		ExternalID:      l.ExternalID,
		SessionDuration: time.Duration(l.SessionDuration),
		URLLifetime:     time.Duration(l.URLLifetime),
		PrivateSpace:    l.PrivateSpace,
		JITProfiles:     l.JITProfiles,
		ExecutionRole:   l.ExecutionRole,
	}
}

// FindTarget returns the target with that id, if targets holds one.
func FindTarget(targets []Target, id string) (Target, bool) {
	for _, t := range targets {
		if t.ID == id {
			return t, true
		}
	}
	return Target{}, false
}
