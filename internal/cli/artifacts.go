package cli

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/sluice-dev/sluice/internal/cfn"
	"github.com/sluice-dev/sluice/internal/pack"
)

// maxTemplateBody is CloudFormation's TemplateBody limit in bytes; a larger template goes by TemplateURL, from the
// artifact bucket.
const maxTemplateBody = 51200

// ArtifactBucket is the bucket `sluice deploy` keeps its packaged code (and templates over the TemplateBody limit)
// in: one per account and region, created on first use, as SAM's --resolve-s3 does with its managed bucket.
func ArtifactBucket(account, region string) string {
	return "sluice-artifacts-" + account + "-" + region
}

// artifacts uploads what a template needs from the local disk to the artifact bucket. Keys are content-addressed
// (code/<sha256>.zip, templates/<sha256>.json), so unchanged code is neither uploaded again nor seen as a change.
type artifacts struct {
	s3       *s3.Client
	bucket   string
	endpoint string
	// build is told before a Go build (it takes a while).
	build func(logicalID string)
	// ensured: the bucket is known to exist.
	ensured bool
}

// packaged is a template ready for the CloudFormation API: its local code uploaded, and either its body or, over
// the limit, the URL of its copy in the artifact bucket.
type packaged struct {
	body string
	url  string
	// template is the template as read, before packaging.
	template *cfn.Template
}

// packageTemplate reads a template file, replaces each function's local code with the object it was uploaded to —
// SAM's CodeUri with its s3:// URI, AWS::Lambda::Function's Code (a path, or a CDK asset directory) with
// S3Bucket/S3Key, as `aws cloudformation package` does — and returns the template as JSON.
func (a *artifacts) packageTemplate(ctx context.Context, path string) (packaged, error) {
	t, err := readTemplate(path)
	if err != nil {
		return packaged{}, err
	}
	read, err := readTemplate(path)
	if err != nil {
		return packaged{}, err
	}
	dir := filepath.Dir(path)
	if err := packageCode(ctx, t, dir, a.bucket, a.upload); err != nil {
		return packaged{}, err
	}
	body, err := json.MarshalIndent(t.Raw, "", " ")
	if err != nil {
		return packaged{}, err
	}
	if len(body) <= maxTemplateBody {
		return packaged{body: string(body), template: read}, nil
	}
	sum := sha256.Sum256(body)
	key := "templates/" + hex.EncodeToString(sum[:]) + ".json"
	if err := a.put(ctx, key, body); err != nil {
		return packaged{}, err
	}
	return packaged{url: strings.TrimRight(a.endpoint, "/") + "/" + a.bucket + "/" + key, template: read}, nil
}

func readTemplate(path string) (*cfn.Template, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	t, err := cfn.Parse(src)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// packageCode uploads the local code of every function of t (relative paths are relative to dir) and points the
// function at the object upload stored it as in bucket.
func packageCode(ctx context.Context, t *cfn.Template, dir, bucket string, upload func(context.Context, string, pack.Spec) (string, error)) error {
	globals, _ := t.Raw["Globals"].(map[string]any)
	globalFn, _ := globals["Function"].(map[string]any)
	resources, _ := t.Raw["Resources"].(map[string]any)
	ids := make([]string, 0, len(resources))
	for id := range resources {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	globalCodeUsed := false
	for _, id := range ids {
		r, _ := resources[id].(map[string]any)
		typ, _ := r["Type"].(string)
		props, _ := r["Properties"].(map[string]any)
		meta, _ := r["Metadata"].(map[string]any)
		switch typ {
		case "AWS::Serverless::Function":
			uri, fromGlobals := props["CodeUri"], false
			if uri == nil && props["InlineCode"] == nil && props["ImageUri"] == nil {
				uri, fromGlobals = globalFn["CodeUri"], true
			}
			local, ok := uri.(string)
			if !ok || local == "" || strings.HasPrefix(local, "s3://") {
				continue
			}
			key, err := upload(ctx, id, codeSpec(dir, local, first(props, globalFn, "Runtime"), first(props, globalFn, "Architectures"), meta))
			if err != nil {
				return err
			}
			if props == nil {
				props = map[string]any{}
				r["Properties"] = props
			}
			props["CodeUri"] = "s3://" + bucket + "/" + key
			globalCodeUsed = globalCodeUsed || fromGlobals
		case "AWS::Lambda::Function":
			local, ok := props["Code"].(string)
			if !ok {
				// A CDK asset: its directory is named in the resource's metadata.
				if meta["aws:asset:property"] != "Code" {
					continue
				}
				if local, ok = meta["aws:asset:path"].(string); !ok {
					continue
				}
			}
			key, err := upload(ctx, id, codeSpec(dir, local, props["Runtime"], props["Architectures"], meta))
			if err != nil {
				return err
			}
			props["Code"] = map[string]any{"S3Bucket": bucket, "S3Key": key}
		}
	}
	if globalCodeUsed {
		// Every function that took the global CodeUri now names its own upload.
		delete(globalFn, "CodeUri")
	}
	return nil
}

// first is a property of a SAM function, else its Globals' value.
func first(props, globals map[string]any, key string) any {
	if v, ok := props[key]; ok {
		return v
	}
	return globals[key]
}

func codeSpec(dir, local string, runtime, archs any, meta map[string]any) pack.Spec {
	if !filepath.IsAbs(local) {
		local = filepath.Join(dir, local)
	}
	spec := pack.Spec{Dir: local}
	spec.Runtime, _ = runtime.(string)
	spec.BuildMethod, _ = meta["BuildMethod"].(string)
	if list, ok := archs.([]any); ok && len(list) == 1 {
		spec.Architecture, _ = list[0].(string)
	}
	return spec
}

// upload packages one function's code (building a Go function first) and stores it under its digest, unless an
// object of that name is there already.
func (a *artifacts) upload(ctx context.Context, id string, spec pack.Spec) (string, error) {
	if need, err := pack.NeedsGoBuild(spec); err == nil && need && a.build != nil {
		a.build(id)
	}
	art, err := pack.Package(ctx, spec)
	if err != nil {
		return "", fmt.Errorf("%s: package %s: %w", id, spec.Dir, err)
	}
	sum := sha256.Sum256(art.Zip)
	key := "code/" + hex.EncodeToString(sum[:]) + ".zip"
	return key, a.put(ctx, key, art.Zip)
}

// put stores body under key unless the bucket holds it already (the key names the content).
func (a *artifacts) put(ctx context.Context, key string, body []byte) error {
	if err := a.ensureBucket(ctx); err != nil {
		return err
	}
	if _, err := a.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(a.bucket), Key: aws.String(key)}); err == nil {
		return nil
	} else if !isHTTPStatus(err, http.StatusNotFound) {
		return fmt.Errorf("artifact s3://%s/%s: %w", a.bucket, key, err)
	}
	if _, err := a.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(a.bucket), Key: aws.String(key), Body: bytes.NewReader(body),
		ContentLength: aws.Int64(int64(len(body)))}); err != nil {
		return fmt.Errorf("upload s3://%s/%s: %w", a.bucket, key, err)
	}
	return nil
}

// ensureBucket creates the artifact bucket the first time it is needed.
func (a *artifacts) ensureBucket(ctx context.Context) error {
	if a.ensured {
		return nil
	}
	_, err := a.s3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(a.bucket)})
	if isHTTPStatus(err, http.StatusNotFound) {
		_, err = a.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(a.bucket)})
		var owned interface{ ErrorCode() string }
		if errors.As(err, &owned) && owned.ErrorCode() == "BucketAlreadyOwnedByYou" {
			err = nil // another deploy made it meanwhile
		}
	}
	if err != nil {
		return fmt.Errorf("artifact bucket %s: %w", a.bucket, err)
	}
	a.ensured = true
	return nil
}

// isHTTPStatus reports whether err is an API answer with that status (S3's answers to HEAD have no body, so no code).
func isHTTPStatus(err error, status int) bool {
	var re interface{ HTTPStatusCode() int }
	return errors.As(err, &re) && re.HTTPStatusCode() == status
}
