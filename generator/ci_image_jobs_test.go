package generator_test

import (
	"reflect"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/rampart-dev/rampart/generator"
)

// The image is built and scanned by a job that cannot write to the
// registry, and pushed by a job that builds nothing: it pushes the archive
// the scan passed and checks the registry holds the scanned digest.

var (
	trivyReference  = regexp.MustCompile(`aquasec/trivy[^\s"']*`)
	pinnedByDigest  = regexp.MustCompile(`@sha256:[0-9a-f]{64}$`)
	buildCommand    = regexp.MustCompile(`kaniko|buildctl|buildx|docker build|build-push-action|setup-buildx`)
	registrySecrets = regexp.MustCompile(`CI_REGISTRY_PASSWORD|CI_JOB_TOKEN|secrets\.|skopeo login`)
)

type githubStep struct {
	Uses string            `yaml:"uses"`
	Run  string            `yaml:"run"`
	Env  map[string]string `yaml:"env"`
	With map[string]string `yaml:"with"`
}

type githubJob struct {
	Needs       []string          `yaml:"needs"`
	If          string            `yaml:"if"`
	Permissions map[string]string `yaml:"permissions"`
	Steps       []githubStep      `yaml:"steps"`
}

// gitlabImage is a job's image, written as a name or as a mapping with one.
type gitlabImage struct {
	Name string `yaml:"name"`
}

func (i *gitlabImage) UnmarshalYAML(node *yaml.Node) error {
	if node.Kind == yaml.ScalarNode {
		return node.Decode(&i.Name)
	}
	type plain gitlabImage
	return node.Decode((*plain)(i))
}

type gitlabJob struct {
	Image  gitlabImage         `yaml:"image"`
	Needs  []string            `yaml:"needs"`
	Rules  []map[string]string `yaml:"rules"`
	Script []string            `yaml:"script"`
}

func TestImageIsScannedWithoutWriteAccessAndPushedAsScanned(t *testing.T) {
	checked := map[string]bool{}
	forEachAllowedPlan(t, func(a generator.Answers, files map[string]string) {
		if workflow, ok := files[".github/workflows/ci.yml"]; ok && !checked[workflow] {
			checked[workflow] = true
			checkGitHubImageJobs(t, a, workflow)
		}
		if pipeline, ok := files[".gitlab-ci.yml"]; ok && !checked[pipeline] {
			checked[pipeline] = true
			checkGitLabImageJobs(t, a, pipeline)
		}
	})
	if len(checked) == 0 {
		t.Fatal("no CI file was generated")
	}
}

// checkTrivyPins fails unless every Trivy image named is pinned by digest and
// nothing goes through trivy-action or setup-trivy (whose tags were rewritten).
func checkTrivyPins(t *testing.T, a generator.Answers, text string) {
	t.Helper()
	text = withoutComments(text)
	if strings.Contains(text, "trivy-action") || strings.Contains(text, "setup-trivy") {
		t.Errorf("%v: the scanner comes through trivy-action or setup-trivy", a)
	}
	refs := trivyReference.FindAllString(text, -1)
	if len(refs) == 0 {
		t.Errorf("%v: no Trivy image", a)
	}
	for _, ref := range refs {
		if !pinnedByDigest.MatchString(ref) {
			t.Errorf("%v: %s is not pinned by digest", a, ref)
		}
	}
}

// withoutComments drops the YAML comment lines, which may name what is not used.
func withoutComments(text string) string {
	var kept []string
	for _, line := range strings.Split(text, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") {
			kept = append(kept, line)
		}
	}
	return strings.Join(kept, "\n")
}

func checkGitHubImageJobs(t *testing.T, a generator.Answers, text string) {
	t.Helper()
	checkTrivyPins(t, a, text)
	var workflow struct {
		Jobs map[string]githubJob `yaml:"jobs"`
	}
	if err := yaml.Unmarshal([]byte(text), &workflow); err != nil {
		t.Fatalf("%v: %v", a, err)
	}
	image, push := workflow.Jobs["image"], workflow.Jobs["push"]
	if !reflect.DeepEqual(image.Permissions, map[string]string{"contents": "read"}) {
		t.Errorf("%v: the image job's permissions are %v, want contents: read only", a, image.Permissions)
	}
	if !reflect.DeepEqual(push.Permissions, map[string]string{"packages": "write"}) {
		t.Errorf("%v: the push job's permissions are %v, want packages: write only", a, push.Permissions)
	}
	for name, job := range workflow.Jobs {
		for scope, access := range job.Permissions {
			if access == "write" && name != "push" && name != "attest" && name != "sign" {
				t.Errorf("%v: job %s may write %s", a, name, scope)
			}
		}
	}
	checkGitHubAttestJob(t, a, workflow.Jobs["attest"])
	checkGitHubSignJob(t, a, workflow.Jobs["sign"])
	if !reflect.DeepEqual(push.Needs, []string{"image"}) || !strings.Contains(push.If, "refs/heads/main") {
		t.Errorf("%v: the push job must need the image job and run on the default branch only", a)
	}
	pushes, compares := false, false
	for _, step := range push.Steps {
		if buildCommand.MatchString(step.Uses+step.Run) || strings.HasPrefix(step.Uses, "actions/checkout") {
			t.Errorf("%v: the push job checks out or builds: %s%s", a, step.Uses, step.Run)
		}
		pushes = pushes || strings.Contains(step.Run, "skopeo copy --preserve-digests")
		compares = compares || (step.Env["SCANNED"] == "${{ needs.image.outputs.digest }}" &&
			strings.Contains(step.Run, `== "$SCANNED"`))
	}
	if !pushes || !compares {
		t.Errorf("%v: the push job must push the archive as it is and compare the digest with the scanned one", a)
	}
}

// checkGitHubAttestJob: the attestations are made by a job of their own,
// after the push, on the default branch, with an OIDC token and the
// attestations API and nothing else: no checkout, no build, no registry.
func checkGitHubAttestJob(t *testing.T, a generator.Answers, attest githubJob) {
	t.Helper()
	want := map[string]string{"id-token": "write", "attestations": "write"}
	if !reflect.DeepEqual(attest.Permissions, want) {
		t.Errorf("%v: the attest job's permissions are %v, want %v", a, attest.Permissions, want)
	}
	if !reflect.DeepEqual(attest.Needs, []string{"image", "push"}) || !strings.Contains(attest.If, "refs/heads/main") {
		t.Errorf("%v: the attest job must need the image and push jobs and run on the default branch only", a)
	}
	provenance, sbom := false, false
	for _, step := range attest.Steps {
		action, _, _ := strings.Cut(step.Uses, "@")
		switch {
		case action == "actions/attest" && step.With["sbom-path"] != "":
			sbom = true
		case action == "actions/attest" && step.With["predicate-type"] == "":
			provenance = true
		case action != "actions/download-artifact":
			t.Errorf("%v: the attest job runs %q%s", a, step.Uses, step.Run)
		}
		if action == "actions/attest" && step.With["subject-digest"] != "${{ needs.image.outputs.digest }}" {
			t.Errorf("%v: an attestation is not of the scanned and pushed digest", a)
		}
	}
	if !provenance || !sbom {
		t.Errorf("%v: the attest job must attest provenance and the bill of materials", a)
	}
}

// checkGitHubSignJob: the keyless signature is made by a job of its own, after
// the push, on the default branch, of the scanned digest; it installs cosign,
// signs, and for a virtual machine checks out (no credentials kept) to archive
// the source it signs; nothing else: no build.
func checkGitHubSignJob(t *testing.T, a generator.Answers, sign githubJob) {
	t.Helper()
	want := map[string]string{"id-token": "write", "packages": "write"}
	if !reflect.DeepEqual(sign.Permissions, want) {
		t.Errorf("%v: the sign job's permissions are %v, want %v", a, sign.Permissions, want)
	}
	if !reflect.DeepEqual(sign.Needs, []string{"image", "push"}) || !strings.Contains(sign.If, "refs/heads/main") {
		t.Errorf("%v: the sign job must need the image and push jobs and run on the default branch only", a)
	}
	signs := false
	for _, step := range sign.Steps {
		action, _, _ := strings.Cut(step.Uses, "@")
		switch {
		case action == "sigstore/cosign-installer", action == "actions/download-artifact", action == "actions/upload-artifact":
		case action == "actions/checkout" && step.With["persist-credentials"] == "false":
			// A virtual machine's source archive is made from the checkout (git archive).
		case step.Uses == "" && !buildCommand.MatchString(step.Run):
			signs = signs || (step.Env["DIGEST"] == "${{ needs.image.outputs.digest }}" &&
				strings.Contains(step.Run, `cosign sign --yes "$IMAGE@$DIGEST"`))
		default:
			t.Errorf("%v: the sign job runs %q%s", a, step.Uses, step.Run)
		}
	}
	if !signs {
		t.Errorf("%v: the sign job must sign the scanned and pushed digest", a)
	}
}

func checkGitLabImageJobs(t *testing.T, a generator.Answers, text string) {
	t.Helper()
	checkTrivyPins(t, a, text)
	var pipeline map[string]yaml.Node
	if err := yaml.Unmarshal([]byte(text), &pipeline); err != nil {
		t.Fatalf("%v: %v", a, err)
	}
	jobs := map[string]gitlabJob{}
	for name, node := range pipeline {
		var job gitlabJob
		if node.Kind != yaml.MappingNode || strings.HasPrefix(name, ".") {
			continue
		}
		if err := node.Decode(&job); err != nil {
			t.Fatalf("%v: job %s: %v", a, name, err)
		}
		jobs[name] = job
	}
	push := jobs["image-push"]
	if !reflect.DeepEqual(push.Needs, []string{"image-build", "image-scan"}) ||
		len(push.Rules) != 1 || push.Rules[0]["if"] != "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH" {
		t.Errorf("%v: image-push must need image-build and image-scan and run on the default branch only", a)
	}
	for _, name := range []string{"image-build", "image-scan", "image-push"} {
		if !pinnedByDigest.MatchString(jobs[name].Image.Name) {
			t.Errorf("%v: %s's image %q is not pinned by digest", a, name, jobs[name].Image.Name)
		}
	}
	script := strings.Join(push.Script, "\n")
	if buildCommand.MatchString(script) {
		t.Errorf("%v: image-push builds", a)
	}
	if !strings.Contains(script, "skopeo copy --preserve-digests") || !strings.Contains(script, `= "$scanned"`) ||
		!strings.Contains(script, "scanned=$(cat scanned.digest)") {
		t.Errorf("%v: image-push must push the layout as it is and compare the digest with the scanned one", a)
	}
	if build := strings.Join(jobs["image-build"].Script, "\n"); !strings.Contains(build, "buildctl-daemonless.sh build") ||
		strings.Contains(build, "kaniko") {
		t.Errorf("%v: image-build must build with rootless BuildKit (kaniko is archived upstream)", a)
	}
	checkGitLabSignJob(t, a, jobs["image-sign"])
	for name, job := range jobs {
		if name != "image-push" && name != "image-sign" && registrySecrets.MatchString(strings.Join(job.Script, "\n")) {
			t.Errorf("%v: job %s uses registry credentials", a, name)
		}
	}
}

// checkGitLabSignJob: image-sign signs the digest image-scan passed, after
// the push, on the default branch, and builds nothing.
func checkGitLabSignJob(t *testing.T, a generator.Answers, sign gitlabJob) {
	t.Helper()
	if !reflect.DeepEqual(sign.Needs, []string{"image-scan", "image-push"}) ||
		len(sign.Rules) != 1 || !strings.HasPrefix(sign.Rules[0]["if"], "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH && ") {
		t.Errorf("%v: image-sign must need image-scan and image-push and run on the default branch only", a)
	}
	script := strings.Join(sign.Script, "\n")
	if buildCommand.MatchString(script) {
		t.Errorf("%v: image-sign builds", a)
	}
	if !strings.Contains(script, "scanned=$(cat scanned.digest)") ||
		!strings.Contains(script, `cosign sign --yes "$CI_REGISTRY_IMAGE@$scanned"`) {
		t.Errorf("%v: image-sign must sign the scanned digest", a)
	}
	if !strings.Contains(script, `cosign attest --yes --type slsaprovenance1 --predicate provenance.json "$CI_REGISTRY_IMAGE@$scanned"`) {
		t.Errorf("%v: image-sign must attest the scanned digest's build provenance", a)
	}
}
