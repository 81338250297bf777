package awssim_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker/types"

	"github.com/sagegate/sagegate/internal/sandbox/awssim"
)

// TestCreateUserProfileLifecycle: a created profile is Pending for the
// create delay, on the simulator's clock, then InService; presigning into
// it works only then.
func TestCreateUserProfileLifecycle(t *testing.T) {
	e := newEnv(t)
	e.sim.SetCreateDelay(30 * time.Second)
	ctx := context.Background()
	client := e.sagemaker("us-east-1", e.assume(t, roleA, extA, "dave", "dave"))
	describe := func() types.UserProfileStatus {
		t.Helper()
		out, err := client.DescribeUserProfile(ctx, &sagemaker.DescribeUserProfileInput{DomainId: aws.String(domainA), UserProfileName: aws.String("dave")})
		if err != nil {
			t.Fatal(err)
		}
		return out.Status
	}
	presign := func() error {
		_, err := client.CreatePresignedDomainUrl(ctx, &sagemaker.CreatePresignedDomainUrlInput{DomainId: aws.String(domainA), UserProfileName: aws.String("dave")})
		return err
	}

	_, err := client.DescribeUserProfile(ctx, &sagemaker.DescribeUserProfileInput{DomainId: aws.String(domainA), UserProfileName: aws.String("dave")})
	var rnf *types.ResourceNotFound
	if !errors.As(err, &rnf) {
		t.Fatalf("before creation: %v, want ResourceNotFound", err)
	}
	_, err = client.CreateUserProfile(ctx, &sagemaker.CreateUserProfileInput{
		DomainId: aws.String(domainA), UserProfileName: aws.String("dave"),
		UserSettings: &types.UserSettings{ExecutionRole: aws.String("arn:aws:iam::1234:role/exec")},
	})
	wantContains(t, wantAPIError(t, err, "ValidationException", 400),
		"at 'userSettings.executionRole' failed to satisfy constraint: Member must satisfy regular expression pattern")
	out, err := client.CreateUserProfile(ctx, &sagemaker.CreateUserProfileInput{
		DomainId: aws.String(domainA), UserProfileName: aws.String("dave"),
		Tags:         []types.Tag{{Key: aws.String("sagegate:user"), Value: aws.String("dave@example.com")}},
		UserSettings: &types.UserSettings{ExecutionRole: aws.String("arn:aws:iam::111111111111:role/exec")},
	})
	if err != nil {
		t.Fatal(err)
	}
	if *out.UserProfileArn != "arn:aws:sagemaker:us-east-1:111111111111:user-profile/"+domainA+"/dave" {
		t.Errorf("arn = %s", *out.UserProfileArn)
	}
	if s := describe(); s != types.UserProfileStatusPending {
		t.Errorf("status right after creation = %s", s)
	}
	wantContains(t, wantAPIError(t, presign(), "ValidationException", 400), "Pending")

	e.clock.Advance(30 * time.Second)
	if s := describe(); s != types.UserProfileStatusInService {
		t.Errorf("status after the delay = %s", s)
	}
	if err := presign(); err != nil {
		t.Errorf("presign into the new profile: %v", err)
	}
	info, ok := e.sim.UserProfile(acctA, domainA, "dave")
	if !ok || info.ExecutionRole != "arn:aws:iam::111111111111:role/exec" || info.CreatedBy == "" ||
		!slices.Equal(info.Tags, []awssim.Tag{{Key: "sagegate:user", Value: "dave@example.com"}}) {
		t.Errorf("UserProfile = %+v", info)
	}

	// Listed with the configured ones; a second create is refused.
	list, err := client.ListUserProfiles(ctx, &sagemaker.ListUserProfilesInput{DomainIdEquals: aws.String(domainA)})
	if err != nil || len(list.UserProfiles) != 3 || *list.UserProfiles[2].UserProfileName != "dave" {
		t.Errorf("ListUserProfiles = %+v, %v", list, err)
	}
	for _, name := range []string{"dave", "alice"} {
		_, err = client.CreateUserProfile(ctx, &sagemaker.CreateUserProfileInput{DomainId: aws.String(domainA), UserProfileName: aws.String(name)})
		wantContains(t, wantAPIError(t, err, "ResourceInUse", 400), "already exists")
	}
	_, err = client.CreateUserProfile(ctx, &sagemaker.CreateUserProfileInput{DomainId: aws.String("d-nosuchdomain"), UserProfileName: aws.String("x")})
	wantAPIError(t, err, "ResourceNotFound", 400)
	_, err = client.CreateUserProfile(ctx, &sagemaker.CreateUserProfileInput{DomainId: aws.String(domainA), UserProfileName: aws.String("bad.name"),
		Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("no * stars")}}})
	wantContains(t, wantAPIError(t, err, "ValidationException", 400), "2 validation errors")
}

func TestCreatePrivateSpace(t *testing.T) {
	e := newEnv(t)
	e.sim.SetCreateDelay(10 * time.Second)
	ctx := context.Background()
	client := e.sagemaker("us-east-1", e.assume(t, roleA, extA, "bob", "bob"))
	_, err := client.CreateSpace(ctx, &sagemaker.CreateSpaceInput{
		DomainId: aws.String(domainA), SpaceName: aws.String("bob"),
		OwnershipSettings:    &types.OwnershipSettings{OwnerUserProfileName: aws.String("bob")},
		SpaceSharingSettings: &types.SpaceSharingSettings{SharingType: types.SharingTypePrivate},
		SpaceSettings:        &types.SpaceSettings{AppType: types.AppTypeJupyterLab},
	})
	if err != nil {
		t.Fatal(err)
	}
	d, err := client.DescribeSpace(ctx, &sagemaker.DescribeSpaceInput{DomainId: aws.String(domainA), SpaceName: aws.String("bob")})
	if err != nil || d.Status != types.SpaceStatusPending || *d.OwnershipSettings.OwnerUserProfileName != "bob" || d.SpaceSharingSettings.SharingType != types.SharingTypePrivate {
		t.Fatalf("DescribeSpace = %+v, %v", d, err)
	}
	presign := func(profile string) error {
		_, err := client.CreatePresignedDomainUrl(ctx, &sagemaker.CreatePresignedDomainUrlInput{
			DomainId: aws.String(domainA), UserProfileName: aws.String(profile), SpaceName: aws.String("bob")})
		return err
	}
	wantContains(t, wantAPIError(t, presign("bob"), "ValidationException", 400), "Pending")
	e.clock.Advance(10 * time.Second)
	if err := presign("bob"); err != nil {
		t.Errorf("presign into the private space: %v", err)
	}
	wantContains(t, wantAPIError(t, presign("alice"), "ValidationException", 400), "private to user profile 'bob'")

	_, err = client.DescribeSpace(ctx, &sagemaker.DescribeSpaceInput{DomainId: aws.String(domainA), SpaceName: aws.String("nope")})
	wantAPIError(t, err, "ResourceNotFound", 400)
	_, err = client.CreateSpace(ctx, &sagemaker.CreateSpaceInput{DomainId: aws.String(domainA), SpaceName: aws.String("team-space")})
	wantAPIError(t, err, "ResourceInUse", 400)
	_, err = client.CreateSpace(ctx, &sagemaker.CreateSpaceInput{DomainId: aws.String(domainA), SpaceName: aws.String("x"),
		OwnershipSettings: &types.OwnershipSettings{OwnerUserProfileName: aws.String("nobody")}})
	wantAPIError(t, err, "ResourceNotFound", 400)
}

func TestDeleteUserProfile(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	client := e.sagemaker("us-east-1", e.assume(t, roleA, extA, "admin", ""))
	del := func(name string) error {
		_, err := client.DeleteUserProfile(ctx, &sagemaker.DeleteUserProfileInput{DomainId: aws.String(domainA), UserProfileName: aws.String(name)})
		return err
	}
	// A configured profile, then one created through the API.
	if err := del("bob"); err != nil {
		t.Fatal(err)
	}
	_, err := client.DescribeUserProfile(ctx, &sagemaker.DescribeUserProfileInput{DomainId: aws.String(domainA), UserProfileName: aws.String("bob")})
	wantAPIError(t, err, "ResourceNotFound", 400)
	wantAPIError(t, del("bob"), "ResourceNotFound", 400)
	list, err := client.ListUserProfiles(ctx, &sagemaker.ListUserProfilesInput{DomainIdEquals: aws.String(domainA)})
	if err != nil || len(list.UserProfiles) != 1 || *list.UserProfiles[0].UserProfileName != "alice" {
		t.Fatalf("ListUserProfiles after deleting bob = %+v, %v", list, err)
	}
	if _, err := client.CreateUserProfile(ctx, &sagemaker.CreateUserProfileInput{DomainId: aws.String(domainA), UserProfileName: aws.String("bob")}); err != nil {
		t.Fatalf("re-creating bob: %v", err)
	}
	if err := del("bob"); err != nil {
		t.Fatal(err)
	}
	if _, ok := e.sim.UserProfile(acctA, domainA, "bob"); ok {
		t.Error("the created profile survived its deletion")
	}
}
