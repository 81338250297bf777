package broker

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker/types"

	"github.com/sagegate/sagegate/internal/identity"
	"github.com/sagegate/sagegate/internal/problem"
	"github.com/sagegate/sagegate/internal/routing"
)

// Domain is a Studio domain as `sagegate routes check` reports it.
type Domain struct {
	ID       string
	Name     string
	Status   string
	AuthMode string
	// Discovered is set when the LOB names no domain and this one was
	// found by ListDomains.
	Discovered bool
}

// discoverDomain returns the id of the one InService domain of t's account
// in t's region, from memory when it was found less than DomainsFor ago.
// No domain, or several, is an error naming what was found: guessing would
// send people into the wrong domain.
func (b *Broker) discoverDomain(ctx context.Context, t routing.Target, creds aws.Credentials) (string, error) {
	st := b.studioState()
	key := domainKey(t)
	now := b.opts.Now()
	st.mu.Lock()
	d, ok := st.domains[key]
	st.mu.Unlock()
	if ok && now.Before(d.until) {
		return d.id, nil
	}
	v, err := awaitFlight(ctx, st.flights.DoChan("domain:"+key, func() (any, error) {
		st.mu.Lock()
		d, ok := st.domains[key]
		st.mu.Unlock()
		if ok && b.opts.Now().Before(d.until) {
			return d.id, nil
		}
		id, err := b.listDomains(context.WithoutCancel(ctx), t, creds)
		if err != nil {
			return "", err
		}
		st.mu.Lock()
		st.domains[key] = discoveredDomain{id: id, until: b.opts.Now().Add(st.opts.DomainsFor)}
		st.mu.Unlock()
		b.log.InfoContext(ctx, "discovered the Studio domain of a LOB", "lob", t.LOB, "account", t.AccountID, "region", t.Region, "domain", id)
		return id, nil
	}))
	if err != nil {
		return "", err
	}
	return v.(string), nil
}

// domainKey is what a discovered domain is remembered under.
func domainKey(t routing.Target) string { return t.AccountID + "/" + t.Region }

func (b *Broker) listDomains(ctx context.Context, t routing.Target, creds aws.Credentials) (string, error) {
	c, err := b.studioClient(t)
	if err != nil {
		return "", err
	}
	var inService, others []string
	in := &sagemaker.ListDomainsInput{MaxResults: aws.Int32(100)}
	for {
		out, err := studioCall(ctx, b, t.AccountID, "ListDomains", c.ListDomains, in, creds)
		if err != nil {
			return "", studioError(ctx, err, "listing the Studio domains", "sagemaker:ListDomains", t)
		}
		for _, d := range out.Domains {
			desc := aws.ToString(d.DomainId) + " (" + aws.ToString(d.DomainName) + ", " + string(d.Status) + ")"
			if d.Status == types.DomainStatusInService {
				inService = append(inService, desc)
			} else {
				others = append(others, desc)
			}
		}
		if aws.ToString(out.NextToken) == "" {
			break
		}
		in.NextToken = out.NextToken
	}
	switch len(inService) {
	case 1:
		id, _, _ := strings.Cut(inService[0], " ")
		return id, nil
	case 0:
		found := "none"
		if len(others) > 0 {
			found = strings.Join(others, ", ")
		}
		return "", problem.New(http.StatusBadGateway, CodeDomainNotFound,
			fmt.Sprintf("LOB %s names no Studio domain and account %s has none InService in %s (found: %s).", t.LOB, t.AccountID, t.Region, found))
	default:
		slices.Sort(inService)
		return "", problem.New(http.StatusBadGateway, CodeDomainAmbiguous,
			fmt.Sprintf("LOB %s names no Studio domain and account %s has %d InService in %s: %s. Set the LOB's domain id.", t.LOB, t.AccountID, len(inService), t.Region, strings.Join(inService, ", ")))
	}
}

// Domain describes t's domain with p's credentials for t's access role,
// discovering it first when t names none.
func (b *Broker) Domain(ctx context.Context, p *identity.Principal, t routing.Target) (Domain, error) {
	creds, _, _, err := b.credentials(ctx, p, t)
	if err != nil {
		return Domain{}, err
	}
	d := Domain{ID: t.DomainID}
	if d.ID == "" {
		if d.ID, err = b.discoverDomain(ctx, t, creds); err != nil {
			return Domain{}, err
		}
		d.Discovered = true
	}
	c, err := b.studioClient(t)
	if err != nil {
		return Domain{}, err
	}
	out, err := studioCall(ctx, b, t.AccountID, "DescribeDomain", c.DescribeDomain, &sagemaker.DescribeDomainInput{DomainId: aws.String(d.ID)}, creds)
	if err != nil {
		return Domain{}, studioError(ctx, err, "describing domain "+d.ID, "sagemaker:DescribeDomain", t)
	}
	d.Name, d.Status, d.AuthMode = aws.ToString(out.DomainName), string(out.Status), string(out.AuthMode)
	return d, nil
}

// UserProfiles returns the user profiles of domain domainID of t's
// account, by name, with their status.
func (b *Broker) UserProfiles(ctx context.Context, p *identity.Principal, t routing.Target, domainID string) (map[string]string, error) {
	creds, _, _, err := b.credentials(ctx, p, t)
	if err != nil {
		return nil, err
	}
	c, err := b.studioClient(t)
	if err != nil {
		return nil, err
	}
	profiles := map[string]string{}
	in := &sagemaker.ListUserProfilesInput{DomainIdEquals: aws.String(domainID), MaxResults: aws.Int32(100)}
	for {
		out, err := studioCall(ctx, b, t.AccountID, "ListUserProfiles", c.ListUserProfiles, in, creds)
		if err != nil {
			return nil, studioError(ctx, err, "listing the user profiles of domain "+domainID, "sagemaker:ListUserProfiles", t)
		}
		for _, up := range out.UserProfiles {
			profiles[aws.ToString(up.UserProfileName)] = string(up.Status)
		}
		if aws.ToString(out.NextToken) == "" {
			return profiles, nil
		}
		in.NextToken = out.NextToken
	}
}
