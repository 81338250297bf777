package assemble

import (
	"archive/zip"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/sagegate/sagegate/deploy/spec"
)

// Context parameters of the app (cdk -c key=value).
const (
	ContextDeployment  = "deployment"
	ContextLambdaAsset = "lambdaAsset"
	// ContextAccountPrefix + <account name> (or "gateway") replaces an
	// account id of the deployment file.
	ContextAccountPrefix = "account:"
	// DefaultDeployment is the two-account example, relative to deploy/.
	DefaultDeployment = "examples/two-accounts.json"
)

// DefaultLambdaAsset is where the Lambda build target writes the zip of an
// architecture, relative to deploy/ (the directory cdk runs the app in).
func DefaultLambdaAsset(arch string) string {
	return filepath.Join("..", "dist", "lambda", arch, "bootstrap.zip")
}

// Options are the deployment and asset the app builds from.
type Options struct {
	Deployment  *spec.Deployment
	LambdaAsset string
	// WantedAsset is the zip that was asked for; Placeholder says it was
	// missing and LambdaAsset is a placeholder instead.
	WantedAsset string
	Placeholder bool
	cleanup     func()
}

// Cleanup removes a placeholder asset (CDK has copied it by then).
func (o *Options) Cleanup() {
	if o.cleanup != nil {
		o.cleanup()
	}
}

// FromContext loads the deployment named by the context, applies the
// account overrides, defaults and validation, and finds the Lambda asset.
// With placeholder, a missing asset is replaced by a placeholder zip so the
// templates can be written before anything is built.
func FromContext(get func(key string) string, placeholder bool) (*Options, error) {
	path := get(ContextDeployment)
	if path == "" {
		path = DefaultDeployment
	}
	d, err := spec.Load(path)
	if err != nil {
		return nil, err
	}
	if v := get(ContextAccountPrefix + "gateway"); v != "" {
		d.Gateway.Account = v
	}
	for i := range d.Accounts {
		if v := get(ContextAccountPrefix + d.Accounts[i].Name); v != "" {
			d.Accounts[i].ID = v
		}
	}
	d.ApplyDefaults()
	if err := d.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}

	o := &Options{Deployment: d, WantedAsset: get(ContextLambdaAsset)}
	if o.WantedAsset == "" {
		o.WantedAsset = DefaultLambdaAsset(d.Gateway.Architecture)
	}
	o.LambdaAsset = o.WantedAsset
	_, err = os.Stat(o.WantedAsset)
	switch {
	case err == nil:
	case placeholder && errors.Is(err, fs.ErrNotExist):
		dir, err := os.MkdirTemp("", "sagegate-placeholder-")
		if err != nil {
			return nil, err
		}
		o.cleanup = func() { os.RemoveAll(dir) }
		o.LambdaAsset = filepath.Join(dir, "bootstrap.zip")
		if err := WritePlaceholderZip(o.LambdaAsset); err != nil {
			o.Cleanup()
			return nil, err
		}
		o.Placeholder = true
	default:
		return nil, fmt.Errorf("lambda asset: %w (build the bootstrap zips first, or pass -c %s=<zip>)", err, ContextLambdaAsset)
	}
	return o, nil
}

// WritePlaceholderZip writes a Lambda zip whose bootstrap only says it is a
// placeholder. Its bytes never change, so neither do the templates.
func WritePlaceholderZip(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	zw := zip.NewWriter(f)
	h := &zip.FileHeader{Name: "bootstrap", Method: zip.Deflate, Modified: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)}
	h.SetMode(0o755)
	w, err := zw.CreateHeader(h)
	if err == nil {
		_, err = w.Write([]byte("#!/bin/sh\necho 'placeholder: build the sagegate Lambda zips and deploy again' >&2\nexit 1\n"))
	}
	if cerr := zw.Close(); err == nil {
		err = cerr
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
