package awssim_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker/types"

	"github.com/sagegate/sagegate/internal/sandbox/awssim"
)

func TestPresignedDomainURLWithAssumedRole(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	creds := e.assume(t, roleA, extA, "sagegate-alice", "alice@example.com")

	out, err := e.sagemaker("us-east-1", creds).CreatePresignedDomainUrl(ctx, &sagemaker.CreatePresignedDomainUrlInput{
		DomainId:         aws.String(domainA),
		UserProfileName:  aws.String("alice"),
		SpaceName:        aws.String("team-space"),
		ExpiresInSeconds: aws.Int32(5),
		LandingUri:       aws.String("app:JupyterLab:/lab/tree/work"),
	})
	if err != nil {
		t.Fatalf("CreatePresignedDomainUrl: %v", err)
	}
	u, err := url.Parse(*out.AuthorizedUrl)
	if err != nil {
		t.Fatal(err)
	}
	if prefix := e.studioBase + "/" + domainA + "/auth?token="; !strings.HasPrefix(*out.AuthorizedUrl, prefix) {
		t.Errorf("AuthorizedUrl = %q, want prefix %q", *out.AuthorizedUrl, prefix)
	}
	if tok := u.Query().Get("token"); len(tok) < 40 {
		t.Errorf("token %q is too short to be a bearer secret", tok)
	}

	if n := e.sim.Calls().Count("sagemaker", "CreatePresignedDomainUrl", acctA); n != 1 {
		t.Errorf("presign count for %s = %d, want 1", acctA, n)
	}
	log := e.sim.CallLog()
	rec := log[len(log)-1]
	want := awssim.CallRecord{
		Service: "sagemaker", Operation: "CreatePresignedDomainUrl", Account: acctA, Region: "us-east-1",
		Caller:          "arn:aws:sts::111111111111:assumed-role/sagegate-access/sagegate-alice",
		RoleSessionName: "sagegate-alice", SourceIdentity: "alice@example.com",
		DomainID: domainA, UserProfile: "alice", Space: "team-space",
	}
	rec.Seq, rec.Time, rec.RequestID = 0, want.Time, ""
	if rec != want {
		t.Errorf("call record\n got %+v\nwant %+v", rec, want)
	}
	// The log must not hold the URL or its token.
	if strings.Contains(e.logs.String(), u.Query().Get("token")) {
		t.Error("the presigned URL token was logged")
	}
}

func TestPresignWithBaseCredentialsActsInCallersAccount(t *testing.T) {
	e := newEnv(t)
	// The gateway's own account has no domains, so the same call that works
	// with assumed credentials fails with the gateway's.
	_, err := e.sagemaker("us-east-1", gatewayCreds()).CreatePresignedDomainUrl(context.Background(), &sagemaker.CreatePresignedDomainUrlInput{
		DomainId: aws.String(domainA), UserProfileName: aws.String("alice"),
	})
	var rnf *types.ResourceNotFound
	if !errors.As(err, &rnf) {
		t.Fatalf("want *types.ResourceNotFound, got %T: %v", err, err)
	}
	wantContains(t, rnf.ErrorMessage(), "arn:aws:sagemaker:us-east-1:000000000000:domain/"+domainA)
	if n := e.sim.Calls().Count("sagemaker", "CreatePresignedDomainUrl", gatewayAccount); n != 1 {
		t.Errorf("count under the gateway account = %d, want 1", n)
	}
}

func TestResourceNotFound(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	credsA := e.assume(t, roleA, extA, "alice", "alice")
	credsB := e.assume(t, roleB, "", "carol", "carol")
	cases := []struct {
		name    string
		client  *sagemaker.Client
		in      sagemaker.CreatePresignedDomainUrlInput
		message string
	}{
		{"unknown domain", e.sagemaker("us-east-1", credsA),
			sagemaker.CreatePresignedDomainUrlInput{DomainId: aws.String("d-doesnotexist"), UserProfileName: aws.String("alice")}, "d-doesnotexist"},
		{"domain in another region", e.sagemaker("us-west-2", credsA),
			sagemaker.CreatePresignedDomainUrlInput{DomainId: aws.String(domainA), UserProfileName: aws.String("alice")}, "us-west-2"},
		{"another account's domain", e.sagemaker("us-east-1", credsB),
			sagemaker.CreatePresignedDomainUrlInput{DomainId: aws.String(domainA), UserProfileName: aws.String("alice")}, acctB},
		{"unknown profile", e.sagemaker("us-east-1", credsA),
			sagemaker.CreatePresignedDomainUrlInput{DomainId: aws.String(domainA), UserProfileName: aws.String("mallory")}, "User profile 'mallory'"},
		{"unknown space", e.sagemaker("us-east-1", credsA),
			sagemaker.CreatePresignedDomainUrlInput{DomainId: aws.String(domainA), UserProfileName: aws.String("alice"), SpaceName: aws.String("nope")}, "Space 'nope'"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.client.CreatePresignedDomainUrl(ctx, &tc.in)
			var rnf *types.ResourceNotFound
			if !errors.As(err, &rnf) {
				t.Fatalf("want *types.ResourceNotFound, got %T: %v", err, err)
			}
			wantContains(t, rnf.ErrorMessage(), tc.message)
			wantAPIError(t, err, "ResourceNotFound", 400)
		})
	}

	// Describe calls hide other accounts' domains the same way.
	_, err := e.sagemaker("us-east-1", credsB).DescribeDomain(ctx, &sagemaker.DescribeDomainInput{DomainId: aws.String(domainA)})
	var rnf *types.ResourceNotFound
	if !errors.As(err, &rnf) {
		t.Fatalf("DescribeDomain across accounts: want *types.ResourceNotFound, got %T: %v", err, err)
	}
	_, err = e.sagemaker("us-east-1", credsA).DescribeUserProfile(ctx, &sagemaker.DescribeUserProfileInput{
		DomainId: aws.String(domainA), UserProfileName: aws.String("carol"),
	})
	if !errors.As(err, &rnf) {
		t.Fatalf("DescribeUserProfile of unknown profile: want *types.ResourceNotFound, got %T: %v", err, err)
	}
}

func TestPresignValidation(t *testing.T) {
	e := newEnv(t)
	creds := e.assume(t, roleA, extA, "alice", "alice")
	client := e.sagemaker("us-east-1", creds)
	long := strings.Repeat("a", 64)
	cases := []struct {
		name    string
		in      sagemaker.CreatePresignedDomainUrlInput
		message string
	}{
		{"domain id upper case", sagemaker.CreatePresignedDomainUrlInput{DomainId: aws.String("d-LOBA")}, "at 'domainId' failed to satisfy constraint: Member must satisfy regular expression pattern: d-(-*[a-z0-9]){1,61}"},
		{"domain id without prefix", sagemaker.CreatePresignedDomainUrlInput{DomainId: aws.String("lobaaaaaaaaa")}, "at 'domainId'"},
		{"domain id too long", sagemaker.CreatePresignedDomainUrlInput{DomainId: aws.String("d-" + long)}, "Member must have length less than or equal to 63"},
		{"profile starts with dash", sagemaker.CreatePresignedDomainUrlInput{UserProfileName: aws.String("-alice")}, "at 'userProfileName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}"},
		{"profile with underscore", sagemaker.CreatePresignedDomainUrlInput{UserProfileName: aws.String("alice_b")}, "at 'userProfileName'"},
		{"profile too long", sagemaker.CreatePresignedDomainUrlInput{UserProfileName: aws.String(long)}, "at 'userProfileName'"},
		{"space with dot", sagemaker.CreatePresignedDomainUrlInput{SpaceName: aws.String("team.space")}, "at 'spaceName'"},
		{"expiry too short", sagemaker.CreatePresignedDomainUrlInput{ExpiresInSeconds: aws.Int32(4)}, "Value '4' at 'expiresInSeconds' failed to satisfy constraint: Member must have value greater than or equal to 5"},
		{"expiry too long", sagemaker.CreatePresignedDomainUrlInput{ExpiresInSeconds: aws.Int32(301)}, "Member must have value less than or equal to 300"},
		{"session too short", sagemaker.CreatePresignedDomainUrlInput{SessionExpirationDurationInSeconds: aws.Int32(1799)}, "at 'sessionExpirationDurationInSeconds'"},
		{"session too long", sagemaker.CreatePresignedDomainUrlInput{SessionExpirationDurationInSeconds: aws.Int32(43201)}, "at 'sessionExpirationDurationInSeconds'"},
		{"landing URI unknown scheme", sagemaker.CreatePresignedDomainUrlInput{LandingUri: aws.String("https://example.com/")}, "Invalid LandingUri"},
		{"landing URI unknown app", sagemaker.CreatePresignedDomainUrlInput{LandingUri: aws.String("app:Notebook:/x")}, "Invalid LandingUri"},
		{"landing URI too long", sagemaker.CreatePresignedDomainUrlInput{LandingUri: aws.String("studio::" + strings.Repeat("x", 1016))}, "at 'landingUri'"},
		{"two errors", sagemaker.CreatePresignedDomainUrlInput{ExpiresInSeconds: aws.Int32(0), SessionExpirationDurationInSeconds: aws.Int32(0)}, "2 validation errors detected"},
		{"SSO domain", sagemaker.CreatePresignedDomainUrlInput{DomainId: aws.String(domainSSO)}, "only supported for IAM mode domains"},
		{"domain not in service", sagemaker.CreatePresignedDomainUrlInput{DomainId: aws.String(domainNew)}, "not InService"},
		{"another profile's private space", sagemaker.CreatePresignedDomainUrlInput{UserProfileName: aws.String("bob"), SpaceName: aws.String("alice-private")}, "private to user profile 'alice'"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			if in.DomainId == nil {
				in.DomainId = aws.String(domainA)
			}
			if in.UserProfileName == nil {
				in.UserProfileName = aws.String("alice")
			}
			_, err := client.CreatePresignedDomainUrl(context.Background(), &in)
			wantContains(t, wantAPIError(t, err, "ValidationException", 400), tc.message)
		})
	}

	// The edges of every range are accepted.
	for _, in := range []sagemaker.CreatePresignedDomainUrlInput{
		{ExpiresInSeconds: aws.Int32(5), SessionExpirationDurationInSeconds: aws.Int32(1800), LandingUri: aws.String("studio::")},
		{ExpiresInSeconds: aws.Int32(300), SessionExpirationDurationInSeconds: aws.Int32(43200), SpaceName: aws.String("alice-private")},
		{LandingUri: aws.String("app:Canvas:")},
	} {
		in.DomainId, in.UserProfileName = aws.String(domainA), aws.String("alice")
		if _, err := client.CreatePresignedDomainUrl(context.Background(), &in); err != nil {
			t.Errorf("%+v: %v", in, err)
		}
	}
}

func TestListDomainsPagination(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	client := e.sagemaker("us-east-1", e.assume(t, roleMany, "", "u1", ""))

	p := sagemaker.NewListDomainsPaginator(client, &sagemaker.ListDomainsInput{MaxResults: aws.Int32(10)})
	var sizes []int
	var ids []string
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		sizes = append(sizes, len(out.Domains))
		for _, d := range out.Domains {
			ids = append(ids, *d.DomainId)
			if d.Status != types.DomainStatusInService || d.CreationTime == nil || !strings.HasSuffix(*d.DomainArn, ":domain/"+*d.DomainId) {
				t.Errorf("domain details = %+v", d)
			}
		}
	}
	if fmt.Sprint(sizes) != "[10 10 5]" {
		t.Errorf("page sizes = %v, want [10 10 5]", sizes)
	}
	for i, id := range ids {
		if want := fmt.Sprintf("d-many%04d", i); id != want {
			t.Fatalf("domain %d = %s, want %s (in configured order, no repeats)", i, id, want)
		}
	}

	// Default page size is 10.
	out, err := client.ListDomains(ctx, &sagemaker.ListDomainsInput{})
	if err != nil || len(out.Domains) != 10 || out.NextToken == nil {
		t.Fatalf("default page: %v, %d domains", err, len(out.Domains))
	}
	// A token is bound to its listing: another account cannot replay it.
	other := e.sagemaker("us-east-1", e.assume(t, roleA, extA, "alice", ""))
	_, err = other.ListDomains(ctx, &sagemaker.ListDomainsInput{NextToken: out.NextToken})
	wantContains(t, wantAPIError(t, err, "ValidationException", 400), "Invalid pagination token")
	_, err = client.ListDomains(ctx, &sagemaker.ListDomainsInput{NextToken: aws.String("garbage")})
	wantAPIError(t, err, "ValidationException", 400)
	_, err = client.ListDomains(ctx, &sagemaker.ListDomainsInput{MaxResults: aws.Int32(101)})
	wantContains(t, wantAPIError(t, err, "ValidationException", 400), "at 'maxResults'")

	// Each account sees only its own domains.
	mine, err := other.ListDomains(ctx, &sagemaker.ListDomainsInput{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range mine.Domains {
		got = append(got, *d.DomainId)
	}
	if fmt.Sprint(got) != fmt.Sprint([]string{domainA, domainSSO, domainNew}) {
		t.Errorf("account A lists %v", got)
	}
}

func TestDescribeAndListUserProfiles(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	client := e.sagemaker("us-east-1", e.assume(t, roleA, extA, "alice", ""))

	d, err := client.DescribeDomain(ctx, &sagemaker.DescribeDomainInput{DomainId: aws.String(domainA)})
	if err != nil {
		t.Fatal(err)
	}
	if *d.DomainName != "lob-a" || d.AuthMode != types.AuthModeIam || d.Status != types.DomainStatusInService ||
		*d.Url != e.studioBase+"/"+domainA || *d.DomainArn != "arn:aws:sagemaker:us-east-1:111111111111:domain/"+domainA {
		t.Errorf("DescribeDomain = %+v", d)
	}

	up, err := client.DescribeUserProfile(ctx, &sagemaker.DescribeUserProfileInput{DomainId: aws.String(domainA), UserProfileName: aws.String("bob")})
	if err != nil {
		t.Fatal(err)
	}
	if up.Status != types.UserProfileStatusInService || *up.UserProfileName != "bob" ||
		*up.UserProfileArn != "arn:aws:sagemaker:us-east-1:111111111111:user-profile/"+domainA+"/bob" {
		t.Errorf("DescribeUserProfile = %+v", up)
	}

	var names []string
	p := sagemaker.NewListUserProfilesPaginator(client, &sagemaker.ListUserProfilesInput{MaxResults: aws.Int32(1)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range out.UserProfiles {
			names = append(names, *u.DomainId+"/"+*u.UserProfileName)
		}
	}
	if want := []string{domainA + "/alice", domainA + "/bob", domainSSO + "/alice", domainNew + "/alice"}; fmt.Sprint(names) != fmt.Sprint(want) {
		t.Errorf("ListUserProfiles = %v, want %v", names, want)
	}
	out, err := client.ListUserProfiles(ctx, &sagemaker.ListUserProfilesInput{
		DomainIdEquals: aws.String(domainA), UserProfileNameContains: aws.String("b"), SortOrder: types.SortOrderDescending,
	})
	if err != nil || len(out.UserProfiles) != 1 || *out.UserProfiles[0].UserProfileName != "bob" {
		t.Fatalf("filtered ListUserProfiles: %v %+v", err, out)
	}
	_, err = client.ListUserProfiles(ctx, &sagemaker.ListUserProfilesInput{SortBy: "Name"})
	wantContains(t, wantAPIError(t, err, "ValidationException", 400), "enum value set")
	_, err = client.ListUserProfiles(ctx, &sagemaker.ListUserProfilesInput{UserProfileNameContains: aws.String(strings.Repeat("b", 64))})
	wantContains(t, wantAPIError(t, err, "ValidationException", 400),
		"at 'userProfileNameContains' failed to satisfy constraint: Member must have length less than or equal to 63")
	_, err = client.ListUserProfiles(ctx, &sagemaker.ListUserProfilesInput{NextToken: aws.String(strings.Repeat("x", 8193))})
	wantContains(t, wantAPIError(t, err, "ValidationException", 400),
		"at 'nextToken' failed to satisfy constraint: Member must have length less than or equal to 8192")
}

func TestInjectedFaults(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	client := e.sagemaker("us-east-1", e.assume(t, roleA, extA, "alice", ""))
	e.sim.InjectFault(awssim.Fault{Service: "sagemaker", Operation: "CreatePresignedDomainUrl", Account: acctA, Code: "ThrottlingException", Message: "Rate exceeded", Times: 1})
	in := &sagemaker.CreatePresignedDomainUrlInput{DomainId: aws.String(domainA), UserProfileName: aws.String("alice")}

	_, err := client.CreatePresignedDomainUrl(ctx, in)
	wantContains(t, wantAPIError(t, err, "ThrottlingException", 400), "Rate exceeded")
	if _, err := client.CreatePresignedDomainUrl(ctx, in); err != nil {
		t.Fatalf("fault should apply once: %v", err)
	}

	e.sim.InjectFault(awssim.Fault{Service: "sts", Code: "AccessDenied", Status: 403})
	_, err = e.sts(gatewayCreds()).GetCallerIdentity(ctx, nil)
	wantAPIError(t, err, "AccessDenied", 403)
	e.sim.ClearFaults()
	if _, err := e.sts(gatewayCreds()).GetCallerIdentity(ctx, nil); err != nil {
		t.Fatalf("after ClearFaults: %v", err)
	}
	if n := e.sim.Calls().Count("sagemaker", "CreatePresignedDomainUrl", acctA); n != 2 {
		t.Errorf("faulted calls must be counted: %d, want 2", n)
	}
}
