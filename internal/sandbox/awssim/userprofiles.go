package awssim

import (
	"cmp"
	"context"
	"net/http"
	"slices"
	"sync"
	"time"
)

// Profiles and spaces created through the API (CreateUserProfile,
// CreateSpace), as just-in-time provisioning does. Those given in Account
// are InService from the start; created ones are Pending for the create
// delay (on the simulator's clock, so tests move it instead of sleeping),
// then InService, as on AWS where creation takes a while.

// Statuses of user profiles and spaces.
const (
	StatusPending   = "Pending"
	StatusInService = "InService"
)

// Tag is a resource tag.
type Tag struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

// UserProfileInfo is a created user profile as a test sees it.
type UserProfileInfo struct {
	Status        string
	Tags          []Tag
	ExecutionRole string
	// CreatedBy is the ARN of the session that created it.
	CreatedBy string
}

// SpaceInfo is a created space as a test sees it.
type SpaceInfo struct {
	Status       string
	OwnerProfile string // empty for a shared space
	Tags         []Tag
}

// resourceKey names a profile or space of one domain of one account.
type resourceKey struct{ account, domain, name string }

type createdProfile struct {
	created       time.Time
	tags          []Tag
	executionRole string
	createdBy     string
}

type createdSpace struct {
	created time.Time
	owner   string
	tags    []Tag
}

// createdResources is the simulator's mutable Studio state; the accounts
// given to AddAccount stay immutable. The zero value is ready to use.
type createdResources struct {
	mu       sync.Mutex
	delay    time.Duration
	profiles map[resourceKey]*createdProfile
	spaces   map[resourceKey]*createdSpace
	// deleted are configured profiles removed by DeleteUserProfile.
	deleted map[resourceKey]bool
}

// SetCreateDelay sets how long created user profiles and spaces stay
// Pending before they are InService, on the simulator's clock. Default 0.
func (s *Simulator) SetCreateDelay(d time.Duration) {
	s.created.mu.Lock()
	defer s.created.mu.Unlock()
	s.created.delay = d
}

// UserProfile returns a profile created through the API.
func (s *Simulator) UserProfile(account, domainID, name string) (UserProfileInfo, bool) {
	s.created.mu.Lock()
	defer s.created.mu.Unlock()
	p, ok := s.created.profiles[resourceKey{account, domainID, name}]
	if !ok {
		return UserProfileInfo{}, false
	}
	return UserProfileInfo{Status: s.statusLocked(p.created), Tags: slices.Clone(p.tags), ExecutionRole: p.executionRole, CreatedBy: p.createdBy}, true
}

// CreatedSpace returns a space created through the API.
func (s *Simulator) CreatedSpace(account, domainID, name string) (SpaceInfo, bool) {
	s.created.mu.Lock()
	defer s.created.mu.Unlock()
	sp, ok := s.created.spaces[resourceKey{account, domainID, name}]
	if !ok {
		return SpaceInfo{}, false
	}
	return SpaceInfo{Status: s.statusLocked(sp.created), OwnerProfile: sp.owner, Tags: slices.Clone(sp.tags)}, true
}

func (s *Simulator) statusLocked(created time.Time) string {
	if s.now().Before(created.Add(s.created.delay)) {
		return StatusPending
	}
	return StatusInService
}

// profileStatus returns the status of a profile of d, configured or
// created, and whether it exists.
func (s *Simulator) profileStatus(d *domain, name string) (string, bool) {
	s.created.mu.Lock()
	defer s.created.mu.Unlock()
	k := resourceKey{d.accountID, d.ID, name}
	if d.profiles[name] && !s.created.deleted[k] {
		return StatusInService, true
	}
	p, ok := s.created.profiles[k]
	if !ok {
		return "", false
	}
	return s.statusLocked(p.created), true
}

// profileDeleted reports whether a configured profile of d was deleted.
func (s *Simulator) profileDeleted(d *domain, name string) bool {
	s.created.mu.Lock()
	defer s.created.mu.Unlock()
	return s.created.deleted[resourceKey{d.accountID, d.ID, name}]
}

// createdProfileNames lists the profiles created in d, oldest first.
func (s *Simulator) createdProfileNames(d *domain) []userProfileDetails {
	s.created.mu.Lock()
	defer s.created.mu.Unlock()
	var out []userProfileDetails
	for k, p := range s.created.profiles {
		if k.account == d.accountID && k.domain == d.ID {
			out = append(out, userProfileDetails{
				DomainId: d.ID, UserProfileName: k.name, Status: s.statusLocked(p.created),
				CreationTime: epochSeconds(p.created), LastModifiedTime: epochSeconds(p.created),
			})
		}
	}
	slices.SortFunc(out, func(a, b userProfileDetails) int {
		if c := time.Time(a.CreationTime).Compare(time.Time(b.CreationTime)); c != 0 {
			return c
		}
		return cmp.Compare(a.UserProfileName, b.UserProfileName)
	})
	return out
}

// space returns a space of d, configured or created, with its status.
func (s *Simulator) space(d *domain, name string) (Space, string, bool) {
	if sp, ok := d.spaces[name]; ok {
		return sp, StatusInService, true
	}
	s.created.mu.Lock()
	defer s.created.mu.Unlock()
	sp, ok := s.created.spaces[resourceKey{d.accountID, d.ID, name}]
	if !ok {
		return Space{}, "", false
	}
	return Space{Name: name, OwnerProfile: sp.owner}, s.statusLocked(sp.created), true
}

// Tag constraints of the SageMaker API.
var tagValuePattern = lazyRegexp(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$`)

func checkTags(v *validationErrors, tags []Tag) {
	if len(tags) > 50 {
		v.add(nil, "tags", "Member must have length less than or equal to 50")
	}
	for _, t := range tags {
		switch {
		case len(t.Key) < 1 || len(t.Key) > 128 || !tagValuePattern().MatchString(t.Key):
			v.add(t.Key, "tags.member.key", "Member must satisfy regular expression pattern: ^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$ and have length between 1 and 128")
		case len(t.Value) > 256 || !tagValuePattern().MatchString(t.Value):
			v.add(t.Value, "tags.member.value", "Member must satisfy regular expression pattern: ^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$ and have length less than or equal to 256")
		}
	}
}

type createUserProfileInput struct {
	DomainId        *string
	UserProfileName *string
	Tags            []Tag
	UserSettings    *struct {
		ExecutionRole *string
	}
}

type createUserProfileOutput struct {
	UserProfileArn string `json:"UserProfileArn"`
}

func (s *Simulator) createUserProfile(_ context.Context, c *call, p *principal, in *createUserProfileInput) (any, *apiError) {
	v := validationErrors{code: "ValidationException"}
	checkName(&v, "domainId", in.DomainId, true, domainIDPattern())
	checkName(&v, "userProfileName", in.UserProfileName, true, resourceNamePattern())
	checkTags(&v, in.Tags)
	role := ""
	if in.UserSettings != nil && in.UserSettings.ExecutionRole != nil {
		role = *in.UserSettings.ExecutionRole
		if !roleARNMemberPattern().MatchString(role) {
			v.add(role, "userSettings.executionRole", "Member must satisfy regular expression pattern: "+roleARNMemberPattern().String())
		}
	}
	if e := v.err(); e != nil {
		return nil, e
	}
	c.rec.DomainID, c.rec.UserProfile = *in.DomainId, *in.UserProfileName
	d := s.domainInRegion(p.accountID, p.region, *in.DomainId)
	if d == nil {
		return nil, domainNotFound(p.accountID, p.region, *in.DomainId)
	}
	name := *in.UserProfileName
	s.created.mu.Lock()
	defer s.created.mu.Unlock()
	k := resourceKey{d.accountID, d.ID, name}
	if _, ok := s.created.profiles[k]; ok || (d.profiles[name] && !s.created.deleted[k]) {
		return nil, profileInUse(d, name)
	}
	if s.created.profiles == nil {
		s.created.profiles = map[resourceKey]*createdProfile{}
	}
	s.created.profiles[k] = &createdProfile{created: s.now(), tags: slices.Clone(in.Tags), executionRole: role, createdBy: p.arn}
	return createUserProfileOutput{UserProfileArn: d.profileARN(name)}, nil
}

func (s *Simulator) deleteUserProfile(_ context.Context, c *call, p *principal, in *describeUserProfileInput) (any, *apiError) {
	d, e := s.profileDomain(c, p, in.DomainId, in.UserProfileName)
	if e != nil {
		return nil, e
	}
	name := *in.UserProfileName
	s.created.mu.Lock()
	defer s.created.mu.Unlock()
	k := resourceKey{d.accountID, d.ID, name}
	switch {
	case s.created.profiles[k] != nil:
		delete(s.created.profiles, k)
	case d.profiles[name] && !s.created.deleted[k]:
		if s.created.deleted == nil {
			s.created.deleted = map[resourceKey]bool{}
		}
		s.created.deleted[k] = true
	default:
		return nil, profileNotFound(d, name)
	}
	// Deletion is immediate here; AWS shows Deleting for a while.
	return struct{}{}, nil
}

func profileInUse(d *domain, name string) *apiError {
	return newAPIError(http.StatusBadRequest, "ResourceInUse",
		"User profile '"+name+"' already exists in domain '"+d.ID+"'.")
}

type createSpaceInput struct {
	DomainId          *string
	SpaceName         *string
	Tags              []Tag
	OwnershipSettings *struct {
		OwnerUserProfileName *string
	}
	SpaceSharingSettings *struct {
		SharingType *string
	}
}

type createSpaceOutput struct {
	SpaceArn string `json:"SpaceArn"`
}

func (s *Simulator) createSpace(_ context.Context, c *call, p *principal, in *createSpaceInput) (any, *apiError) {
	v := validationErrors{code: "ValidationException"}
	checkName(&v, "domainId", in.DomainId, true, domainIDPattern())
	checkName(&v, "spaceName", in.SpaceName, true, resourceNamePattern())
	checkTags(&v, in.Tags)
	owner, sharing := "", "Shared"
	if in.OwnershipSettings != nil {
		checkName(&v, "ownershipSettings.ownerUserProfileName", in.OwnershipSettings.OwnerUserProfileName, true, resourceNamePattern())
		owner = deref(in.OwnershipSettings.OwnerUserProfileName)
	}
	if in.SpaceSharingSettings != nil {
		checkEnum(&v, "spaceSharingSettings.sharingType", in.SpaceSharingSettings.SharingType, "Private", "Shared")
		sharing = deref(in.SpaceSharingSettings.SharingType)
	}
	if e := v.err(); e != nil {
		return nil, e
	}
	c.rec.DomainID, c.rec.Space, c.rec.UserProfile = *in.DomainId, *in.SpaceName, owner
	d := s.domainInRegion(p.accountID, p.region, *in.DomainId)
	if d == nil {
		return nil, domainNotFound(p.accountID, p.region, *in.DomainId)
	}
	if sharing == "Private" && owner == "" {
		return nil, newAPIError(http.StatusBadRequest, "ValidationException", "A private space needs OwnershipSettings.OwnerUserProfileName.")
	}
	if owner != "" {
		if _, ok := s.profileStatus(d, owner); !ok {
			return nil, profileNotFound(d, owner)
		}
	}
	if sharing == "Shared" {
		// A shared space belongs to nobody in particular.
		owner = ""
	}
	name := *in.SpaceName
	if _, _, ok := s.space(d, name); ok {
		return nil, newAPIError(http.StatusBadRequest, "ResourceInUse", "Space '"+name+"' already exists in domain '"+d.ID+"'.")
	}
	s.created.mu.Lock()
	defer s.created.mu.Unlock()
	if s.created.spaces == nil {
		s.created.spaces = map[resourceKey]*createdSpace{}
	}
	s.created.spaces[resourceKey{d.accountID, d.ID, name}] = &createdSpace{created: s.now(), owner: owner, tags: slices.Clone(in.Tags)}
	return createSpaceOutput{SpaceArn: d.spaceARN(name)}, nil
}

type describeSpaceInput struct {
	DomainId  *string
	SpaceName *string
}

type ownershipSettings struct {
	OwnerUserProfileName string `json:"OwnerUserProfileName"`
}

type spaceSharingSettings struct {
	SharingType string `json:"SharingType"`
}

type describeSpaceOutput struct {
	DomainId             string                `json:"DomainId"`
	SpaceArn             string                `json:"SpaceArn"`
	SpaceName            string                `json:"SpaceName"`
	Status               string                `json:"Status"`
	OwnershipSettings    *ownershipSettings    `json:"OwnershipSettings,omitempty"`
	SpaceSharingSettings *spaceSharingSettings `json:"SpaceSharingSettings,omitempty"`
}

func (s *Simulator) describeSpace(_ context.Context, c *call, p *principal, in *describeSpaceInput) (any, *apiError) {
	v := validationErrors{code: "ValidationException"}
	checkName(&v, "domainId", in.DomainId, true, domainIDPattern())
	checkName(&v, "spaceName", in.SpaceName, true, resourceNamePattern())
	if e := v.err(); e != nil {
		return nil, e
	}
	c.rec.DomainID, c.rec.Space = *in.DomainId, *in.SpaceName
	d := s.domainInRegion(p.accountID, p.region, *in.DomainId)
	if d == nil {
		return nil, domainNotFound(p.accountID, p.region, *in.DomainId)
	}
	sp, status, ok := s.space(d, *in.SpaceName)
	if !ok {
		return nil, newAPIError(http.StatusBadRequest, "ResourceNotFound", "Space '"+*in.SpaceName+"' not found in domain '"+d.ID+"'.")
	}
	out := describeSpaceOutput{DomainId: d.ID, SpaceArn: d.spaceARN(sp.Name), SpaceName: sp.Name, Status: status,
		SpaceSharingSettings: &spaceSharingSettings{SharingType: "Shared"}}
	if sp.OwnerProfile != "" {
		out.OwnershipSettings = &ownershipSettings{OwnerUserProfileName: sp.OwnerProfile}
		out.SpaceSharingSettings.SharingType = "Private"
	}
	return out, nil
}

func (d *domain) spaceARN(name string) string {
	return "arn:aws:sagemaker:" + d.Region + ":" + d.accountID + ":space/" + d.ID + "/" + name
}
