package routing

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Notebook instances as targets. Three records make them:
//
//   - LOB.Notebooks: shared instances in the LOB's account that every member
//     opens (Owner empty: only administrators stop them);
//   - User.Notebooks: a person's own instances, each naming the LOB whose
//     account and access role reach it (vended, provisioned through Service
//     Catalog, or added by an administrator);
//   - LOB.NotebookTemplates: every member gets one notebook of their own per
//     template, named by NotebookName, which is created from the template
//     the first time they open it (self-service vending).
//
// A notebook target's id is "<lob>:<instance name>": a LOB name cannot hold
// ':', so it never collides with a Studio target (whose id is the LOB name)
// and stays one URL path segment.

// NotebookRef names one notebook instance.
type NotebookRef struct {
	// LOB is the LOB whose account holds the instance. Required in a
	// user's record; in a LOB's own list it is that LOB and may be left out.
	LOB string `json:"lob,omitempty"`
	// Name is the NotebookInstanceName.
	Name  string `json:"name"`
	Label string `json:"label,omitempty"`
	// Template is the LOB template the instance was vended from, if any.
	Template string `json:"template,omitempty"`
	// ProvisionedProduct is the Service Catalog provisioned product that
	// creates the instance: until it exists, opening it waits for it.
	ProvisionedProduct string `json:"provisionedProduct,omitempty"`
}

// NotebookTemplate is what a person may vend a notebook from. The secure
// choices are the defaults: root access and direct internet access are off
// unless the template turns them on.
type NotebookTemplate struct {
	// Name identifies the template in its LOB and starts the name of every
	// instance vended from it (see NotebookName).
	Name  string `json:"name"`
	Label string `json:"label,omitempty"`
	// InstanceTypes a person may choose from; the first is the default.
	InstanceTypes []string `json:"instanceTypes"`
	// VolumeSizeGB of the ML storage volume, 5..16384; 0 means 5.
	VolumeSizeGB int `json:"volumeSizeGb,omitempty"`
	// LifecycleConfig names a notebook instance lifecycle configuration.
	LifecycleConfig string `json:"lifecycleConfig,omitempty"`
	// KMSKeyID encrypts the volume.
	KMSKeyID string `json:"kmsKeyId,omitempty"`
	// SubnetID and SecurityGroupIDs put the instance in the VPC; SageMaker
	// requires a subnet when direct internet access is off.
	SubnetID         string   `json:"subnetId,omitempty"`
	SecurityGroupIDs []string `json:"securityGroupIds,omitempty"`
	// RoleARN is the instance's execution role (a bare role name is in the
	// LOB's account).
	RoleARN              string `json:"roleArn"`
	RootAccess           bool   `json:"rootAccess,omitempty"`
	DirectInternetAccess bool   `json:"directInternetAccess,omitempty"`
	// MaxPerUser is how many instances one person may vend from the
	// template; 0 means 1. The first is the person's template target, the
	// others are recorded in their user record.
	MaxPerUser int `json:"maxPerUser,omitempty"`
	// Tags are added to every instance besides sagegate:user, sagegate:lob
	// and sagegate:template.
	Tags map[string]string `json:"tags,omitempty"`
}

// Defaults and limits of notebook templates.
const (
	DefaultNotebookVolumeGB = 5
	maxNotebookVolumeGB     = 16384
	maxNotebooksPerUser     = 20
	maxTemplateNameLen      = 20
	maxNotebookLabelLen     = 200
)

var (
	templateNameRE  = regexp.MustCompile(`^[a-z0-9](-*[a-z0-9])*$`)
	instanceTypeRE  = regexp.MustCompile(`^ml\.[a-z0-9]+\.[a-z0-9]+$`)
	subnetIDRE      = regexp.MustCompile(`^subnet-[0-9a-f]{8,17}$`)
	securityGroupRE = regexp.MustCompile(`^sg-[0-9a-f]{8,17}$`)
	kmsKeyIDRE      = regexp.MustCompile(`^[a-zA-Z0-9:/_-]+$`)
	provisionedRE   = regexp.MustCompile(`^[a-zA-Z0-9_-]+$`)
)

// MaxInstances is how many instances one person may vend from t.
func (t NotebookTemplate) MaxInstances() int { return max(t.MaxPerUser, 1) }

// VolumeSize is the template's volume size with its default applied.
func (t NotebookTemplate) VolumeSize() int {
	if t.VolumeSizeGB == 0 {
		return DefaultNotebookVolumeGB
	}
	return t.VolumeSizeGB
}

// ExecutionRoleARN is the template's role as an ARN in l's account.
func (t NotebookTemplate) ExecutionRoleARN(l LOB) string {
	if t.RoleARN == "" || strings.HasPrefix(t.RoleARN, "arn:") {
		return t.RoleARN
	}
	return "arn:" + Partition(l.Region) + ":iam::" + l.AccountID + ":role/" + strings.TrimPrefix(t.RoleARN, "/")
}

// Template returns l's template called name.
func (l LOB) Template(name string) (NotebookTemplate, bool) {
	i := slices.IndexFunc(l.NotebookTemplates, func(t NotebookTemplate) bool { return t.Name == name })
	if i < 0 {
		return NotebookTemplate{}, false
	}
	return l.NotebookTemplates[i], true
}

// NotebookName is the name of the n-th (1-based) instance username vends
// from template: "<template>-<username>" for the first, with "-<n>" after
// it for the others. Like ProfileName it is deterministic (it names an
// existing instance) and always valid: a username that does not fit
// SageMaker's pattern, or is too long, is rewritten with a hash suffix.
func NotebookName(template, username string, n int) (string, error) {
	if !templateNameRE.MatchString(template) || len(template) > maxTemplateNameLen {
		return "", fmt.Errorf("%w: invalid template name %q", ErrProfileName, template)
	}
	base, err := sanitizeProfile(username)
	if err != nil {
		return "", err
	}
	suffix := ""
	if n > 1 {
		suffix = "-" + strconv.Itoa(n)
	}
	if name := template + "-" + base + suffix; len(name) <= maxProfileLen {
		return name, nil
	}
	sum := sha256.Sum256([]byte(username))
	room := maxProfileLen - len(template) - 1 - 1 - hashLen - len(suffix)
	base = strings.Trim(base[:min(room, len(base))], "-")
	return template + "-" + base + "-" + hex.EncodeToString(sum[:hashLen/2]) + suffix, nil
}

// NotebookTargetID is the id of the notebook target for instance in lob.
func NotebookTargetID(lob, instance string) string { return lob + ":" + instance }

// notebookTarget is the target of instance name in LOB l. owner is the
// person it belongs to ("" for a LOB's shared notebook).
func notebookTarget(l LOB, ref NotebookRef, owner string) Target {
	label := ref.Label
	if label == "" {
		label = "Notebook " + ref.Name
	}
	return Target{
		ID:                 NotebookTargetID(l.Name, ref.Name),
		Kind:               KindNotebook,
		Label:              label,
		LOB:                l.Name,
		AccountID:          l.AccountID,
		Region:             l.Region,
		NotebookInstance:   ref.Name,
		Owner:              owner,
		Template:           ref.Template,
		ProvisionedProduct: ref.ProvisionedProduct,
		RoleARN:            l.RoleARN,
		ExternalID:         l.ExternalID,
		SessionDuration:    time.Duration(l.SessionDuration),
	}
}

// NotebookTargets are the notebook targets LOB l gives username: the LOB's
// shared notebooks, then one per template (the person's own, which exists
// or is created on first open).
func NotebookTargets(l LOB, username string) []Target {
	var out []Target
	for _, ref := range l.Notebooks {
		out = append(out, notebookTarget(l, ref, ""))
	}
	for i := range l.NotebookTemplates {
		tpl := &l.NotebookTemplates[i]
		name, err := NotebookName(tpl.Name, username, 1)
		if err != nil {
			continue // the username has no letters or digits; no Studio either
		}
		label := tpl.Label
		if label == "" {
			label = "Notebook (" + tpl.Name + ")"
		}
		t := notebookTarget(l, NotebookRef{Name: name, Label: label, Template: tpl.Name}, username)
		t.NotebookTemplate = tpl
		out = append(out, t)
	}
	return out
}

// UserNotebookTarget is the target of one of username's own notebooks,
// in LOB l (which must be ref.LOB).
func UserNotebookTarget(l LOB, ref NotebookRef, username string) Target {
	t := notebookTarget(l, ref, username)
	if tpl, ok := l.Template(ref.Template); ok {
		t.NotebookTemplate = &tpl
	}
	return t
}

// Clone returns a copy of u that shares no slice with it.
func (u User) Clone() User {
	u.LOBs = slices.Clone(u.LOBs)
	u.Notebooks = slices.Clone(u.Notebooks)
	return u
}

// Clone returns a copy of l that shares no slice or map with it.
func (l LOB) Clone() LOB {
	l.Notebooks = slices.Clone(l.Notebooks)
	if l.NotebookTemplates != nil {
		tpls := make([]NotebookTemplate, len(l.NotebookTemplates))
		for i, t := range l.NotebookTemplates {
			t.InstanceTypes = slices.Clone(t.InstanceTypes)
			t.SecurityGroupIDs = slices.Clone(t.SecurityGroupIDs)
			if t.Tags != nil {
				tags := make(map[string]string, len(t.Tags))
				for k, v := range t.Tags {
					tags[k] = v
				}
				t.Tags = tags
			}
			tpls[i] = t
		}
		l.NotebookTemplates = tpls
	}
	return l
}

// validateNotebooks checks a LOB's shared notebooks and templates.
func (l LOB) validateNotebooks(add func(field, format string, args ...any)) {
	seen := map[string]bool{}
	for i, ref := range l.Notebooks {
		f := fmt.Sprintf("notebooks[%d]", i)
		if ref.LOB != "" && ref.LOB != l.Name {
			add(f+".lob", "a LOB's notebooks are in its own account: leave lob out or set it to %q, got %q", l.Name, ref.LOB)
		}
		for _, e := range ref.validate(false) {
			add(f+"."+e.Field, "%s", e.Msg)
		}
		if seen[ref.Name] {
			add(f+".name", "%q is listed twice", ref.Name)
		}
		seen[ref.Name] = true
	}
	names := map[string]bool{}
	for i, t := range l.NotebookTemplates {
		f := fmt.Sprintf("notebookTemplates[%d]", i)
		for _, e := range t.validate() {
			add(f+"."+e.Field, "%s", e.Msg)
		}
		if names[t.Name] {
			add(f+".name", "%q is used by another template", t.Name)
		}
		names[t.Name] = true
	}
}

// validate reports the problems of one notebook reference; inUser says it
// is in a user's record, where the LOB is required.
func (ref NotebookRef) validate(inUser bool) []*FieldError {
	var errs []*FieldError
	add := func(field, format string, args ...any) {
		errs = append(errs, &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	if inUser {
		switch {
		case ref.LOB == "":
			add("lob", "required: the LOB whose account holds the notebook")
		case !validLOBName(ref.LOB):
			add("lob", "must be a LOB name, got %q", ref.LOB)
		}
	}
	if !ValidProfileName(ref.Name) {
		// NotebookInstanceName shares UserProfileName's pattern.
		add("name", "must be a notebook instance name: 1 to 63 letters, digits and inner hyphens, got %q", ref.Name)
	}
	if len(ref.Label) > maxNotebookLabelLen {
		add("label", "must be at most %d characters", maxNotebookLabelLen)
	}
	if ref.Template != "" && !templateNameRE.MatchString(ref.Template) {
		add("template", "must be a template name, got %q", ref.Template)
	}
	if pp := ref.ProvisionedProduct; pp != "" && (len(pp) > 100 || !provisionedRE.MatchString(pp)) {
		add("provisionedProduct", "must be a Service Catalog provisioned product id such as pp-abc123, got %q", pp)
	}
	return errs
}

func (t NotebookTemplate) validate() []*FieldError {
	var errs []*FieldError
	add := func(field, format string, args ...any) {
		errs = append(errs, &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	if !templateNameRE.MatchString(t.Name) || len(t.Name) > maxTemplateNameLen {
		add("name", "must be 1 to %d of a-z, 0-9 and inner hyphens (it starts instance names), got %q", maxTemplateNameLen, t.Name)
	}
	if len(t.Label) > maxNotebookLabelLen {
		add("label", "must be at most %d characters", maxNotebookLabelLen)
	}
	if len(t.InstanceTypes) == 0 {
		add("instanceTypes", "at least one instance type is required, such as ml.t3.medium")
	}
	for i, it := range t.InstanceTypes {
		if !instanceTypeRE.MatchString(it) {
			add(fmt.Sprintf("instanceTypes[%d]", i), "must be a SageMaker instance type such as ml.t3.medium, got %q", it)
		}
	}
	if v := t.VolumeSizeGB; v != 0 && (v < 5 || v > maxNotebookVolumeGB) {
		add("volumeSizeGb", "must be between 5 and %d, got %d", maxNotebookVolumeGB, v)
	}
	if t.LifecycleConfig != "" && !ValidProfileName(t.LifecycleConfig) {
		add("lifecycleConfig", "must be a lifecycle configuration name, got %q", t.LifecycleConfig)
	}
	if t.KMSKeyID != "" && (len(t.KMSKeyID) > 2048 || !kmsKeyIDRE.MatchString(t.KMSKeyID)) {
		add("kmsKeyId", "must be a KMS key id, ARN or alias, got %q", t.KMSKeyID)
	}
	if t.SubnetID != "" && !subnetIDRE.MatchString(t.SubnetID) {
		add("subnetId", "must be a subnet id such as subnet-0123456789abcdef0, got %q", t.SubnetID)
	}
	if !t.DirectInternetAccess && t.SubnetID == "" {
		add("subnetId", "required while directInternetAccess is off (SageMaker needs a subnet to reach anything)")
	}
	if len(t.SecurityGroupIDs) > 5 {
		add("securityGroupIds", "at most 5, got %d", len(t.SecurityGroupIDs))
	}
	for i, sg := range t.SecurityGroupIDs {
		if !securityGroupRE.MatchString(sg) {
			add(fmt.Sprintf("securityGroupIds[%d]", i), "must be a security group id such as sg-0123456789abcdef0, got %q", sg)
		}
	}
	if len(t.SecurityGroupIDs) > 0 && t.SubnetID == "" {
		add("securityGroupIds", "need subnetId")
	}
	switch {
	case t.RoleARN == "":
		add("roleArn", "required: the notebook's execution role")
	case strings.HasPrefix(t.RoleARN, "arn:"):
		if m := roleARNRE.FindStringSubmatch(t.RoleARN); m == nil || !roleRE.MatchString(m[3]) {
			add("roleArn", "must be a role ARN or a bare role name, got %q", t.RoleARN)
		}
	case !roleRE.MatchString(t.RoleARN):
		add("roleArn", "must be a role ARN or a bare role name, got %q", t.RoleARN)
	}
	if t.MaxPerUser < 0 || t.MaxPerUser > maxNotebooksPerUser {
		add("maxPerUser", "must be between 0 (meaning 1) and %d, got %d", maxNotebooksPerUser, t.MaxPerUser)
	}
	for k := range t.Tags {
		if strings.HasPrefix(k, "sagegate:") || strings.HasPrefix(k, "aws:") {
			add("tags", "%q: keys starting with sagegate: or aws: are reserved", k)
		}
	}
	return errs
}

// validateUserNotebooks checks the notebooks of a user's record.
func validateUserNotebooks(refs []NotebookRef) []error {
	var errs []error
	seen := map[string]bool{}
	for i, ref := range refs {
		f := fmt.Sprintf("notebooks[%d]", i)
		for _, e := range ref.validate(true) {
			errs = append(errs, &FieldError{Field: f + "." + e.Field, Msg: e.Msg})
		}
		if key := ref.LOB + ":" + ref.Name; seen[key] {
			errs = append(errs, &FieldError{Field: f, Msg: fmt.Sprintf("notebook %q of %q is listed twice", ref.Name, ref.LOB)})
		} else {
			seen[key] = true
		}
	}
	return errs
}
