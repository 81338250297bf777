package notebooks

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/sagegate/sagegate/internal/identity"
	"github.com/sagegate/sagegate/internal/lambda/events"
	"github.com/sagegate/sagegate/internal/routing"
)

// The Service Catalog route. A person provisions the notebook product
// (the AWS notebook-vending sample's, or deploy/'s NotebookVendingStack);
// CloudTrail records the ProvisionProduct call and EventBridge hands it to
// the events Lambda, which lands here. The notebook is recorded as the
// person's target at once, with its provisioned product: CloudFormation is
// only beginning to create the instance, so nothing is asked of AWS here
// (the sample's waiter failed on exactly that), and the first open of the
// target waits for the instance to exist and be InService.

// ProvisionOptions say where the event carries what.
type ProvisionOptions struct {
	// UserParameters are the provisioning parameters that may hold the
	// owner's username, tried in order (by key: the sample read a fixed
	// position in the list). Default: OwnerUsername, UserName, Username,
	// NotebookUserName, notebook_user_name. The tag sagegate:user, then
	// the caller's source identity (sagegate's sessions carry the
	// username there) are tried last.
	UserParameters []string
	// NameParameters may hold the notebook instance name, tried in order.
	// Default: NotebookInstanceName, NotebookName. Without one, the
	// provisioned product's name is the instance's, as the products do.
	NameParameters []string
}

// DefaultUserParameters and DefaultNameParameters are the defaults of
// ProvisionOptions.
var (
	DefaultUserParameters = []string{"OwnerUsername", "UserName", "Username", "NotebookUserName", "notebook_user_name"}
	DefaultNameParameters = []string{"NotebookInstanceName", "NotebookName"}
)

// Provisioner is an events.ProvisionHandler that records provisioned
// notebooks in the routing store.
type Provisioner struct {
	m    *Manager
	opts ProvisionOptions
}

var _ events.ProvisionHandler = (*Provisioner)(nil)

// Provisioner returns the ProvisionProduct handler of m. m's Store must
// be writable.
func (m *Manager) Provisioner(o ProvisionOptions) *Provisioner {
	if len(o.UserParameters) == 0 {
		o.UserParameters = DefaultUserParameters
	}
	if len(o.NameParameters) == 0 {
		o.NameParameters = DefaultNameParameters
	}
	return &Provisioner{m: m, opts: o}
}

// ProvisionProduct implements events.ProvisionHandler. Events it cannot
// use (no owner, an account no LOB routes to) are logged and dropped,
// since a retry would not change them; a store failure is returned, so
// that Lambda retries.
func (pv *Provisioner) ProvisionProduct(ctx context.Context, e events.ProvisionProduct) error {
	m := pv.m
	log := m.log.With("eventId", e.EventID, "account", e.Account, "region", e.Region, "provisionedProduct", e.ProvisionedProductID)
	user := firstParam(e.Parameters, pv.opts.UserParameters)
	if user == "" {
		user = e.Tags[TagUser]
	}
	if user == "" {
		// Provisioned through sagegate's own session, which carries the
		// person's username as its source identity.
		user = e.Caller.SourceIdentity
	}
	if user == "" {
		log.WarnContext(ctx, "notebook: ProvisionProduct without an owner; none of the parameters names one",
			"tried", append(slices.Clone(pv.opts.UserParameters), "tag "+TagUser, "the caller's source identity"))
		return nil
	}
	name := cmp.Or(firstParam(e.Parameters, pv.opts.NameParameters), e.ProvisionedProductName)
	if !routing.ValidProfileName(name) {
		log.WarnContext(ctx, "notebook: ProvisionProduct names no valid notebook instance", "user", user, "name", name)
		return nil
	}
	if m.opts.Store == nil {
		return errors.New("notebooks: no routing store to record provisioned notebooks in")
	}
	lob, err := pv.lobFor(ctx, user, e.Account, e.Region)
	if err != nil {
		return err
	}
	if lob.Name == "" {
		log.WarnContext(ctx, "notebook: no LOB routes to the account of a provisioned notebook; add one", "user", user, "instance", name)
		return nil
	}
	ref := routing.NotebookRef{LOB: lob.Name, Name: name, ProvisionedProduct: e.ProvisionedProductID,
		Label: "Notebook " + name + " (Service Catalog)"}
	begin := m.now()
	added, err := m.addUserNotebook(ctx, user, ref)
	t := routing.UserNotebookTarget(lob, ref, user)
	if err != nil || added {
		m.record(ctx, ActionRecord, &identity.Principal{Username: user}, t, begin, err)
	}
	if errors.Is(err, routing.ErrReadOnly) {
		// Retrying cannot help; the operator must move the routes.
		log.ErrorContext(ctx, "notebook: cannot record a provisioned notebook: the routes are read-only (inline in the configuration); use a routes file or DynamoDB",
			"user", user, "lob", lob.Name, "instance", name)
		return nil
	}
	if err != nil {
		return fmt.Errorf("recording notebook %q of %q: %w", name, user, err)
	}
	log.InfoContext(ctx, "notebook: provisioned notebook recorded as the owner's target", "user", user, "lob", lob.Name,
		"instance", name, "new", added)
	return nil
}

func firstParam(params map[string]string, keys []string) string {
	for _, k := range keys {
		if v := params[k]; v != "" {
			return v
		}
	}
	return ""
}

// lobFor finds the LOB of account and region: one of user's own LOBs when
// several share the account, else the first by name. None is a zero LOB.
func (pv *Provisioner) lobFor(ctx context.Context, user, account, region string) (routing.LOB, error) {
	lobs, err := AllLOBs(ctx, pv.m.opts.Store)
	if err != nil {
		return routing.LOB{}, err
	}
	var candidates []routing.LOB
	for _, l := range lobs {
		if l.AccountID == account && l.Region == region {
			candidates = append(candidates, l)
		}
	}
	if len(candidates) == 0 {
		return routing.LOB{}, nil
	}
	slices.SortFunc(candidates, func(a, b routing.LOB) int { return cmp.Compare(a.Name, b.Name) })
	if u, err := pv.m.opts.Store.GetUser(ctx, user); err == nil {
		for _, l := range candidates {
			if slices.Contains(u.LOBs, l.Name) {
				return l, nil
			}
		}
	}
	return candidates[0], nil
}
