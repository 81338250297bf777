package awssim

import (
	"cmp"
	"context"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// SageMaker notebook instances, with their lifecycle on the simulator's
// clock: a started (or created) instance is Pending for NotebookDelays.Start,
// then InService (or Failed, when a failure was injected); a stopped one is
// Stopping for NotebookDelays.Stop, then Stopped; a deleted one Deleting for
// NotebookDelays.Delete, then gone. An instance seeded as Updating becomes
// Stopped after NotebookDelays.Update, as an update does on AWS. States are
// worked out lazily from timestamps when read, so a test moves its clock
// instead of sleeping, and `sagegate dev` shows real progress in real time.

// Notebook instance statuses (SageMaker's NotebookInstanceStatus).
const (
	NotebookPending   = "Pending"
	NotebookInService = "InService"
	NotebookStopping  = "Stopping"
	NotebookStopped   = "Stopped"
	NotebookFailed    = "Failed"
	NotebookDeleting  = "Deleting"
	NotebookUpdating  = "Updating"
)

// NotebookDelays are how long the transitions of notebook instances take.
type NotebookDelays struct {
	Start, Stop, Update, Delete time.Duration
}

// NotebookInstance seeds an instance with AddNotebookInstance.
type NotebookInstance struct {
	Account string
	Region  string // default us-east-1
	Name    string
	// Status is Stopped by default. Pending, Stopping, Updating and
	// Deleting move on after their delay as if the transition had just
	// begun.
	Status       string
	InstanceType string // default ml.t3.medium
	Tags         []Tag
	// FailureReason makes the instance Failed with it (Status Failed), or
	// the next start fail with it (any other status).
	FailureReason string
	// Since is when the instance was created and entered its status
	// (LastModifiedTime); zero means now.
	Since time.Time
}

// NotebookInfo is an instance as a test sees it.
type NotebookInfo struct {
	Status, FailureReason, InstanceType string
	RoleARN, KMSKeyID, SubnetID         string
	LifecycleConfig                     string
	SecurityGroups                      []string
	VolumeSizeGB                        int
	RootAccess, DirectInternetAccess    string
	Tags                                []Tag
	CreatedBy                           string
}

type notebookKey struct{ account, region, name string }

type notebook struct {
	NotebookInfo
	key      notebookKey
	created  time.Time
	modified time.Time
	// next becomes the status at `at`; "" when the status is stable.
	next string
	at   time.Time
	// failNext is the FailureReason the next start (or creation) ends in.
	failNext string
	gone     bool
}

type notebookState struct {
	mu     sync.Mutex
	delays NotebookDelays
	byKey  map[notebookKey]*notebook
}

// SetNotebookDelays sets how long notebook transitions take, on the
// simulator's clock. Default: all zero (instant).
func (s *Simulator) SetNotebookDelays(d NotebookDelays) {
	s.nb.mu.Lock()
	defer s.nb.mu.Unlock()
	s.nb.delays = d
}

// AddNotebookInstance adds (or replaces) an instance.
func (s *Simulator) AddNotebookInstance(n NotebookInstance) {
	now := s.now()
	if !n.Since.IsZero() {
		now = n.Since
	}
	s.nb.mu.Lock()
	defer s.nb.mu.Unlock()
	key := notebookKey{n.Account, cmp.Or(n.Region, defaultRegion), n.Name}
	nb := &notebook{key: key, created: now, modified: now, NotebookInfo: NotebookInfo{
		Status: cmp.Or(n.Status, NotebookStopped), InstanceType: cmp.Or(n.InstanceType, "ml.t3.medium"),
		Tags: slices.Clone(n.Tags), VolumeSizeGB: 5, RootAccess: "Disabled", DirectInternetAccess: "Disabled",
		RoleARN: executionRole(n.Account),
	}}
	if nb.Status == NotebookFailed {
		nb.FailureReason = n.FailureReason
	} else {
		nb.failNext = n.FailureReason
	}
	switch nb.Status {
	case NotebookPending:
		s.nb.beginLocked(nb, now, NotebookPending, s.nb.delays.Start)
	case NotebookStopping:
		s.nb.beginLocked(nb, now, NotebookStopping, s.nb.delays.Stop)
	case NotebookUpdating:
		s.nb.beginLocked(nb, now, NotebookUpdating, s.nb.delays.Update)
	case NotebookDeleting:
		s.nb.beginLocked(nb, now, NotebookDeleting, s.nb.delays.Delete)
	}
	if s.nb.byKey == nil {
		s.nb.byKey = map[notebookKey]*notebook{}
	}
	s.nb.byKey[key] = nb
}

// FailNextNotebookStart makes the next start of an instance end Failed
// with reason, as a start with a broken lifecycle script does on AWS.
func (s *Simulator) FailNextNotebookStart(account, region, name, reason string) bool {
	s.nb.mu.Lock()
	defer s.nb.mu.Unlock()
	nb := s.nb.getLocked(notebookKey{account, cmp.Or(region, defaultRegion), name}, s.now())
	if nb == nil {
		return false
	}
	nb.failNext = reason
	return true
}

// Notebook returns an instance as it is now.
func (s *Simulator) Notebook(account, region, name string) (NotebookInfo, bool) {
	s.nb.mu.Lock()
	defer s.nb.mu.Unlock()
	nb := s.nb.getLocked(notebookKey{account, cmp.Or(region, defaultRegion), name}, s.now())
	if nb == nil {
		return NotebookInfo{}, false
	}
	info := nb.NotebookInfo
	info.Tags = slices.Clone(info.Tags)
	info.SecurityGroups = slices.Clone(info.SecurityGroups)
	return info, true
}

// beginLocked puts nb into a transitional status that ends after d.
func (st *notebookState) beginLocked(nb *notebook, now time.Time, status string, d time.Duration) {
	nb.Status, nb.modified = status, now
	nb.at = now.Add(d)
	switch status {
	case NotebookPending:
		nb.next = NotebookInService
		if nb.failNext != "" {
			nb.next = NotebookFailed
		}
	case NotebookStopping, NotebookUpdating:
		nb.next = NotebookStopped
	case NotebookDeleting:
		nb.next = ""
		nb.gone = true
	}
	st.settleLocked(nb, now)
}

// settleLocked applies a transition whose time has come.
func (st *notebookState) settleLocked(nb *notebook, now time.Time) {
	if now.Before(nb.at) {
		return
	}
	if nb.gone {
		delete(st.byKey, nb.key)
		return
	}
	if nb.next == "" {
		return
	}
	nb.Status, nb.modified, nb.next = nb.next, nb.at, ""
	if nb.Status == NotebookFailed {
		nb.FailureReason, nb.failNext = nb.failNext, ""
	}
}

// getLocked returns the instance as of now, nil when there is none.
func (st *notebookState) getLocked(k notebookKey, now time.Time) *notebook {
	nb := st.byKey[k]
	if nb == nil {
		return nil
	}
	st.settleLocked(nb, now)
	return st.byKey[k]
}

// Input constraints of the notebook operations.
var (
	instanceTypePattern = lazyRegexp(`^ml\.[a-z0-9]+\.[a-z0-9]+$`)
	subnetPattern       = lazyRegexp(`^[-0-9a-zA-Z]+$`)
)

func (nb *notebook) arn() string {
	// SageMaker lower-cases the name in the ARN.
	return "arn:aws:sagemaker:" + nb.key.region + ":" + nb.key.account + ":notebook-instance/" + strings.ToLower(nb.key.name)
}

// recordNotFound is what AWS answers for an instance that does not exist:
// a ValidationException, not ResourceNotFound.
func recordNotFound() *apiError {
	return newAPIError(http.StatusBadRequest, "ValidationException", "RecordNotFound")
}

func badTransition(nb *notebook, from []string, to string) *apiError {
	return newAPIError(http.StatusBadRequest, "ValidationException",
		"Status ("+nb.Status+") not in (["+strings.Join(from, ", ")+"]). Unable to transition to ("+to+") for Notebook Instance ("+nb.arn()+").")
}

type notebookNameInput struct {
	NotebookInstanceName *string
}

// notebookFor validates the instance name of a request, records it on the
// call, and finds the instance in the caller's account and region.
func (s *Simulator) notebookFor(c *call, p *principal, name *string) (notebookKey, *apiError) {
	v := validationErrors{code: "ValidationException"}
	checkName(&v, "notebookInstanceName", name, true, resourceNamePattern())
	if e := v.err(); e != nil {
		return notebookKey{}, e
	}
	c.rec.NotebookInstance = *name
	return notebookKey{p.accountID, p.region, *name}, nil
}

func (s *Simulator) notebookOperations() map[string]smHandler {
	return map[string]smHandler{
		"CreateNotebookInstance":             jsonOp(s.createNotebookInstance),
		"DescribeNotebookInstance":           jsonOp(s.describeNotebookInstance),
		"StartNotebookInstance":              jsonOp(s.startNotebookInstance),
		"StopNotebookInstance":               jsonOp(s.stopNotebookInstance),
		"DeleteNotebookInstance":             jsonOp(s.deleteNotebookInstance),
		"ListNotebookInstances":              jsonOp(s.listNotebookInstances),
		"CreatePresignedNotebookInstanceUrl": jsonOp(s.createPresignedNotebookInstanceURL),
		"ListTags":                           jsonOp(s.listTags),
		"AddTags":                            jsonOp(s.addTags),
	}
}

type createNotebookInstanceInput struct {
	NotebookInstanceName *string
	InstanceType         *string
	RoleArn              *string
	KmsKeyId             *string
	LifecycleConfigName  *string
	SubnetId             *string
	SecurityGroupIds     []string
	VolumeSizeInGB       *int64
	RootAccess           *string
	DirectInternetAccess *string
	Tags                 []Tag
}

type createNotebookInstanceOutput struct {
	NotebookInstanceArn string `json:"NotebookInstanceArn"`
}

func (s *Simulator) createNotebookInstance(_ context.Context, c *call, p *principal, in *createNotebookInstanceInput) (any, *apiError) {
	v := validationErrors{code: "ValidationException"}
	checkName(&v, "notebookInstanceName", in.NotebookInstanceName, true, resourceNamePattern())
	switch {
	case in.InstanceType == nil:
		v.add(nil, "instanceType", "Member must not be null")
	case !instanceTypePattern().MatchString(*in.InstanceType):
		v.add(*in.InstanceType, "instanceType", "Member must satisfy enum value set")
	}
	switch {
	case in.RoleArn == nil:
		v.add(nil, "roleArn", "Member must not be null")
	case !roleARNMemberPattern().MatchString(*in.RoleArn):
		v.add(*in.RoleArn, "roleArn", "Member must satisfy regular expression pattern: "+roleARNMemberPattern().String())
	}
	checkName(&v, "lifecycleConfigName", in.LifecycleConfigName, false, resourceNamePattern())
	checkRange(&v, "volumeSizeInGB", in.VolumeSizeInGB, 5, 16384)
	checkEnum(&v, "rootAccess", in.RootAccess, "Enabled", "Disabled")
	checkEnum(&v, "directInternetAccess", in.DirectInternetAccess, "Enabled", "Disabled")
	if in.SubnetId != nil && (len(*in.SubnetId) > 32 || !subnetPattern().MatchString(*in.SubnetId)) {
		v.add(*in.SubnetId, "subnetId", "Member must satisfy regular expression pattern: [-0-9a-zA-Z]+")
	}
	if len(in.SecurityGroupIds) > 5 {
		v.add(nil, "securityGroupIds", "Member must have length less than or equal to 5")
	}
	checkMaxLen(&v, "kmsKeyId", in.KmsKeyId, 2048)
	checkTags(&v, in.Tags)
	if e := v.err(); e != nil {
		return nil, e
	}
	direct := cmp.Or(deref(in.DirectInternetAccess), "Enabled")
	if direct == "Disabled" && in.SubnetId == nil {
		return nil, newAPIError(http.StatusBadRequest, "ValidationException",
			"DirectInternetAccess can only be disabled for a notebook instance in a VPC: specify SubnetId.")
	}
	if len(in.SecurityGroupIds) > 0 && in.SubnetId == nil {
		return nil, newAPIError(http.StatusBadRequest, "ValidationException", "SecurityGroupIds require SubnetId.")
	}
	c.rec.NotebookInstance = *in.NotebookInstanceName
	key := notebookKey{p.accountID, p.region, *in.NotebookInstanceName}
	now := s.now()
	s.nb.mu.Lock()
	defer s.nb.mu.Unlock()
	if old := s.nb.getLocked(key, now); old != nil {
		return nil, newAPIError(http.StatusBadRequest, "ValidationException",
			"Cannot create a duplicate Notebook Instance ("+old.arn()+")")
	}
	volume := 5
	if in.VolumeSizeInGB != nil {
		volume = int(*in.VolumeSizeInGB)
	}
	nb := &notebook{key: key, created: now, NotebookInfo: NotebookInfo{
		InstanceType: *in.InstanceType, RoleARN: *in.RoleArn, KMSKeyID: deref(in.KmsKeyId),
		SubnetID: deref(in.SubnetId), SecurityGroups: slices.Clone(in.SecurityGroupIds),
		LifecycleConfig: deref(in.LifecycleConfigName), VolumeSizeGB: volume,
		RootAccess: cmp.Or(deref(in.RootAccess), "Enabled"), DirectInternetAccess: direct,
		Tags: slices.Clone(in.Tags), CreatedBy: p.arn,
	}}
	if s.nb.byKey == nil {
		s.nb.byKey = map[notebookKey]*notebook{}
	}
	s.nb.byKey[key] = nb
	s.nb.beginLocked(nb, now, NotebookPending, s.nb.delays.Start)
	return createNotebookInstanceOutput{NotebookInstanceArn: nb.arn()}, nil
}

type describeNotebookInstanceOutput struct {
	NotebookInstanceArn                 string       `json:"NotebookInstanceArn"`
	NotebookInstanceName                string       `json:"NotebookInstanceName"`
	NotebookInstanceStatus              string       `json:"NotebookInstanceStatus"`
	FailureReason                       string       `json:"FailureReason,omitempty"`
	Url                                 string       `json:"Url,omitempty"`
	InstanceType                        string       `json:"InstanceType"`
	RoleArn                             string       `json:"RoleArn"`
	KmsKeyId                            string       `json:"KmsKeyId,omitempty"`
	SubnetId                            string       `json:"SubnetId,omitempty"`
	SecurityGroups                      []string     `json:"SecurityGroups,omitempty"`
	NotebookInstanceLifecycleConfigName string       `json:"NotebookInstanceLifecycleConfigName,omitempty"`
	VolumeSizeInGB                      int          `json:"VolumeSizeInGB"`
	RootAccess                          string       `json:"RootAccess"`
	DirectInternetAccess                string       `json:"DirectInternetAccess"`
	CreationTime                        epochSeconds `json:"CreationTime"`
	LastModifiedTime                    epochSeconds `json:"LastModifiedTime"`
}

func (s *Simulator) describeNotebookInstance(_ context.Context, c *call, p *principal, in *notebookNameInput) (any, *apiError) {
	key, e := s.notebookFor(c, p, in.NotebookInstanceName)
	if e != nil {
		return nil, e
	}
	s.nb.mu.Lock()
	defer s.nb.mu.Unlock()
	nb := s.nb.getLocked(key, s.now())
	if nb == nil {
		return nil, recordNotFound()
	}
	return describeNotebookInstanceOutput{
		NotebookInstanceArn: nb.arn(), NotebookInstanceName: key.name, NotebookInstanceStatus: nb.Status,
		FailureReason: nb.FailureReason, Url: s.notebookHost(key), InstanceType: nb.InstanceType,
		RoleArn: nb.RoleARN, KmsKeyId: nb.KMSKeyID, SubnetId: nb.SubnetID, SecurityGroups: nb.SecurityGroups,
		NotebookInstanceLifecycleConfigName: nb.LifecycleConfig, VolumeSizeInGB: nb.VolumeSizeGB,
		RootAccess: nb.RootAccess, DirectInternetAccess: nb.DirectInternetAccess,
		CreationTime: epochSeconds(nb.created), LastModifiedTime: epochSeconds(nb.modified),
	}, nil
}

// transition moves an instance from one of from to status, for Start, Stop
// and Delete.
func (s *Simulator) transition(c *call, p *principal, name *string, from []string, status string, delay func(NotebookDelays) time.Duration) (any, *apiError) {
	key, e := s.notebookFor(c, p, name)
	if e != nil {
		return nil, e
	}
	now := s.now()
	s.nb.mu.Lock()
	defer s.nb.mu.Unlock()
	nb := s.nb.getLocked(key, now)
	if nb == nil {
		return nil, recordNotFound()
	}
	if !slices.Contains(from, nb.Status) {
		return nil, badTransition(nb, from, status)
	}
	nb.FailureReason = ""
	s.nb.beginLocked(nb, now, status, delay(s.nb.delays))
	return struct{}{}, nil
}

func (s *Simulator) startNotebookInstance(_ context.Context, c *call, p *principal, in *notebookNameInput) (any, *apiError) {
	return s.transition(c, p, in.NotebookInstanceName, []string{NotebookStopped}, NotebookPending,
		func(d NotebookDelays) time.Duration { return d.Start })
}

func (s *Simulator) stopNotebookInstance(_ context.Context, c *call, p *principal, in *notebookNameInput) (any, *apiError) {
	return s.transition(c, p, in.NotebookInstanceName, []string{NotebookInService}, NotebookStopping,
		func(d NotebookDelays) time.Duration { return d.Stop })
}

func (s *Simulator) deleteNotebookInstance(_ context.Context, c *call, p *principal, in *notebookNameInput) (any, *apiError) {
	return s.transition(c, p, in.NotebookInstanceName, []string{NotebookStopped, NotebookFailed}, NotebookDeleting,
		func(d NotebookDelays) time.Duration { return d.Delete })
}

type listNotebookInstancesInput struct {
	NameContains           *string
	StatusEquals           *string
	LastModifiedTimeBefore *float64
	LastModifiedTimeAfter  *float64
	SortBy                 *string
	SortOrder              *string
	MaxResults             *int64
	NextToken              *string
}

type notebookInstanceSummary struct {
	NotebookInstanceArn    string       `json:"NotebookInstanceArn"`
	NotebookInstanceName   string       `json:"NotebookInstanceName"`
	NotebookInstanceStatus string       `json:"NotebookInstanceStatus"`
	InstanceType           string       `json:"InstanceType"`
	Url                    string       `json:"Url,omitempty"`
	CreationTime           epochSeconds `json:"CreationTime"`
	LastModifiedTime       epochSeconds `json:"LastModifiedTime"`
}

type listNotebookInstancesOutput struct {
	NotebookInstances []notebookInstanceSummary `json:"NotebookInstances"`
	NextToken         string                    `json:"NextToken,omitempty"`
}

func (s *Simulator) listNotebookInstances(_ context.Context, _ *call, p *principal, in *listNotebookInstancesInput) (any, *apiError) {
	v := validationErrors{code: "ValidationException"}
	checkEnum(&v, "statusEquals", in.StatusEquals, NotebookPending, NotebookInService, NotebookStopping, NotebookStopped,
		NotebookFailed, NotebookDeleting, NotebookUpdating)
	checkEnum(&v, "sortBy", in.SortBy, "Name", "CreationTime", "Status")
	checkEnum(&v, "sortOrder", in.SortOrder, "Ascending", "Descending")
	checkMaxLen(&v, "nameContains", in.NameContains, maxResourceNameLen)
	if e := v.err(); e != nil {
		return nil, e
	}
	now := s.now()
	var all []notebookInstanceSummary
	s.nb.mu.Lock()
	for k := range s.nb.byKey {
		if k.account != p.accountID || k.region != p.region {
			continue
		}
		nb := s.nb.getLocked(k, now)
		switch {
		case nb == nil,
			in.NameContains != nil && !strings.Contains(strings.ToLower(k.name), strings.ToLower(*in.NameContains)),
			in.StatusEquals != nil && nb.Status != *in.StatusEquals,
			in.LastModifiedTimeBefore != nil && !nb.modified.Before(fromEpoch(*in.LastModifiedTimeBefore)),
			in.LastModifiedTimeAfter != nil && !nb.modified.After(fromEpoch(*in.LastModifiedTimeAfter)):
			continue
		}
		all = append(all, notebookInstanceSummary{
			NotebookInstanceArn: nb.arn(), NotebookInstanceName: k.name, NotebookInstanceStatus: nb.Status,
			InstanceType: nb.InstanceType, Url: s.notebookHost(k),
			CreationTime: epochSeconds(nb.created), LastModifiedTime: epochSeconds(nb.modified),
		})
	}
	s.nb.mu.Unlock()
	by := func(a, b notebookInstanceSummary) int {
		return cmp.Compare(a.NotebookInstanceName, b.NotebookInstanceName)
	}
	switch deref(in.SortBy) {
	case "CreationTime":
		by = func(a, b notebookInstanceSummary) int {
			return cmp.Or(time.Time(a.CreationTime).Compare(time.Time(b.CreationTime)), cmp.Compare(a.NotebookInstanceName, b.NotebookInstanceName))
		}
	case "Status":
		by = func(a, b notebookInstanceSummary) int {
			return cmp.Or(cmp.Compare(a.NotebookInstanceStatus, b.NotebookInstanceStatus), cmp.Compare(a.NotebookInstanceName, b.NotebookInstanceName))
		}
	}
	slices.SortFunc(all, by)
	if deref(in.SortOrder) == "Descending" {
		slices.Reverse(all)
	}
	listing := strings.Join([]string{"ListNotebookInstances", p.accountID, p.region, deref(in.NameContains),
		deref(in.StatusEquals), deref(in.SortBy), deref(in.SortOrder)}, ":")
	pg, e := paginate(&v, len(all), in.MaxResults, in.NextToken, listing)
	if e != nil {
		return nil, e
	}
	return listNotebookInstancesOutput{NotebookInstances: append([]notebookInstanceSummary{}, all[pg.start:pg.end]...), NextToken: pg.next}, nil
}

func fromEpoch(sec float64) time.Time {
	return time.UnixMilli(int64(sec * 1000))
}
