package awssim

import (
	"context"
	"slices"
	"strings"
)

// SageMaker user profile operations.

type describeUserProfileInput struct {
	DomainId        *string
	UserProfileName *string
}

type describeUserProfileOutput struct {
	DomainId             string       `json:"DomainId"`
	UserProfileArn       string       `json:"UserProfileArn"`
	UserProfileName      string       `json:"UserProfileName"`
	HomeEfsFileSystemUid string       `json:"HomeEfsFileSystemUid"`
	Status               string       `json:"Status"`
	CreationTime         epochSeconds `json:"CreationTime"`
	LastModifiedTime     epochSeconds `json:"LastModifiedTime"`
	UserSettings         userSettings `json:"UserSettings"`
}

func (s *Simulator) describeUserProfile(_ context.Context, c *call, p *principal, in *describeUserProfileInput) (any, *apiError) {
	d, e := s.profileDomain(c, p, in.DomainId, in.UserProfileName)
	if e != nil {
		return nil, e
	}
	status, ok := s.profileStatus(d, *in.UserProfileName)
	if !ok {
		return nil, profileNotFound(d, *in.UserProfileName)
	}
	return describeUserProfileOutput{
		DomainId:             d.ID,
		UserProfileArn:       d.profileARN(*in.UserProfileName),
		UserProfileName:      *in.UserProfileName,
		HomeEfsFileSystemUid: "200001",
		Status:               status,
		CreationTime:         epochSeconds(d.created),
		LastModifiedTime:     epochSeconds(d.created),
		UserSettings:         userSettings{ExecutionRole: executionRole(d.accountID)},
	}, nil
}

type listUserProfilesInput struct {
	DomainIdEquals          *string
	UserProfileNameContains *string
	SortBy                  *string
	SortOrder               *string
	MaxResults              *int64
	NextToken               *string
}

type userProfileDetails struct {
	DomainId         string       `json:"DomainId"`
	UserProfileName  string       `json:"UserProfileName"`
	Status           string       `json:"Status"`
	CreationTime     epochSeconds `json:"CreationTime"`
	LastModifiedTime epochSeconds `json:"LastModifiedTime"`
}

type listUserProfilesOutput struct {
	UserProfiles []userProfileDetails `json:"UserProfiles"`
	NextToken    string               `json:"NextToken,omitempty"`
}

func (s *Simulator) listUserProfiles(_ context.Context, c *call, p *principal, in *listUserProfilesInput) (any, *apiError) {
	v := validationErrors{code: "ValidationException"}
	checkName(&v, "domainIdEquals", in.DomainIdEquals, false, domainIDPattern())
	checkEnum(&v, "sortBy", in.SortBy, "CreationTime", "LastModifiedTime")
	checkEnum(&v, "sortOrder", in.SortOrder, "Ascending", "Descending")
	checkMaxLen(&v, "userProfileNameContains", in.UserProfileNameContains, maxResourceNameLen)
	if e := v.err(); e != nil {
		return nil, e
	}

	var all []userProfileDetails
	for _, d := range s.domainsInRegion(p.accountID, p.region) {
		if in.DomainIdEquals != nil && d.ID != *in.DomainIdEquals {
			continue
		}
		for _, name := range d.UserProfiles {
			if in.UserProfileNameContains != nil && !strings.Contains(name, *in.UserProfileNameContains) || s.profileDeleted(d, name) {
				continue
			}
			all = append(all, userProfileDetails{
				DomainId:         d.ID,
				UserProfileName:  name,
				Status:           "InService",
				CreationTime:     epochSeconds(d.created),
				LastModifiedTime: epochSeconds(d.created),
			})
		}
		// Profiles created through the API come after, in creation order.
		for _, pd := range s.createdProfileNames(d) {
			if in.UserProfileNameContains == nil || strings.Contains(pd.UserProfileName, *in.UserProfileNameContains) {
				all = append(all, pd)
			}
		}
	}
	// Every profile of an account shares its creation time, so the
	// configured order stands in for creation order; Descending reverses it.
	if in.SortOrder != nil && *in.SortOrder == "Descending" {
		slices.Reverse(all)
	}
	if in.DomainIdEquals != nil {
		c.rec.DomainID = *in.DomainIdEquals
	}

	listing := "ListUserProfiles:" + p.accountID + ":" + p.region + ":" +
		deref(in.DomainIdEquals) + ":" + deref(in.UserProfileNameContains) + ":" + deref(in.SortBy) + ":" + deref(in.SortOrder)
	pg, e := paginate(&v, len(all), in.MaxResults, in.NextToken, listing)
	if e != nil {
		return nil, e
	}
	return listUserProfilesOutput{UserProfiles: append([]userProfileDetails{}, all[pg.start:pg.end]...), NextToken: pg.next}, nil
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// profileDomain validates the (domain, user profile) pair of a request,
// records it on the call, and finds the domain in the caller's account and
// region: the common first steps of every user-profile operation.
func (s *Simulator) profileDomain(c *call, p *principal, domainID, profile *string) (*domain, *apiError) {
	v := validationErrors{code: "ValidationException"}
	checkName(&v, "domainId", domainID, true, domainIDPattern())
	checkName(&v, "userProfileName", profile, true, resourceNamePattern())
	if e := v.err(); e != nil {
		return nil, e
	}
	c.rec.DomainID, c.rec.UserProfile = *domainID, *profile
	d := s.domainInRegion(p.accountID, p.region, *domainID)
	if d == nil {
		return nil, domainNotFound(p.accountID, p.region, *domainID)
	}
	return d, nil
}
