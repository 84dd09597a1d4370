package main

import (
	"bytes"
	"errors"
	"os/exec"
	"strings"
	"testing"

	"github.com/rampart-dev/rampart/blueprints"
	"github.com/rampart-dev/rampart/generator"
	"github.com/rampart-dev/rampart/templates"
)

func flask(t *testing.T) *generator.Blueprint {
	t.Helper()
	all, err := generator.LoadBlueprints(blueprints.Manifests, templates.FS, "(devel)")
	if err != nil {
		t.Fatal(err)
	}
	return all["flask"]
}

func answers() generator.Answers {
	return generator.Answers{
		"name": "shop", "package": "shop", "description": `It's "quoted"; $(touch /tmp/pwned) and a \ too`,
		"database": "sqlite", "cache": "memcached", "auth": "oidc", "deploy": "vm", "ci": "gitlab",
	}
}

// The facts survive the shell: eval gives back every answer and attribute
// byte for byte, free text included, and runs nothing.
func TestFactsAreShellAssignmentsThatRoundTrip(t *testing.T) {
	var out bytes.Buffer
	if err := printFacts(&out, flask(t), answers()); err != nil {
		t.Fatal(err)
	}
	script := "set -eu\neval \"$(cat)\"\nprintf '%s\\n' \"$answer_description\" \"$choice_database_scheme\" \"$choice_deploy_proxy_config\" \"$choice_auth_login\" \"$choice_cache_server\"\n"
	cmd := exec.Command("bash", "-c", script)
	cmd.Stdin = &out
	got, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("bash: %v\n%s", err, got)
	}
	want := answers()["description"] + "\nsqlite\ndeploy/vm/nginx.conf\nprovider\nmemcached\n"
	if string(got) != want {
		t.Errorf("eval gave\n%s\nwant\n%s", got, want)
	}
}

func TestFactsRefuseAnAnswerTheManifestDoesNotOffer(t *testing.T) {
	a := answers()
	a["cache"] = "valkey"
	err := printFacts(&bytes.Buffer{}, flask(t), a)
	if err == nil || !strings.Contains(err.Error(), "cache=valkey is not a choice") {
		t.Fatalf("err = %v", err)
	}
	delete(a, "cache")
	if err := printFacts(&bytes.Buffer{}, flask(t), a); err == nil || !strings.Contains(err.Error(), `no answer to "cache"`) {
		t.Fatalf("err = %v", err)
	}
}

func TestServicesNameEachServerAndItsSetting(t *testing.T) {
	a := answers()
	a["database"] = "postgres"
	var out bytes.Buffer
	if err := printServices(&out, flask(t), a); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); got != "DATABASE_URL\tpostgres\nMEMCACHED_SERVERS\tmemcached\n" {
		t.Errorf("services:\n%s", got)
	}
}

func TestPinIsTheManifestsRequirement(t *testing.T) {
	var out bytes.Buffer
	if err := printPin(&out, flask(t), "UV"); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "uv==") || strings.Count(out.String(), "\n") != 1 {
		t.Errorf("pin uv: %q", out.String())
	}
	if err := printPin(&bytes.Buffer{}, flask(t), "no-such-tool"); err == nil {
		t.Error("a package the manifest does not pin gave no error")
	}
}

// generate writes what a release generated: the frozen archive's project,
// committed, with the release's version in its record.
func TestGenerateWritesAReleasedVersionsProject(t *testing.T) {
	for k, v := range map[string]string{"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"} {
		t.Setenv(k, v)
	}
	dir := t.TempDir() + "/old-shop"
	if err := generateRelease("flask", "v0.1.0", dir, []string{"--database", "mysql"}); err != nil {
		t.Fatal(err)
	}
	record, err := generator.ReadRecord(dir)
	if err != nil {
		t.Fatal(err)
	}
	if record.BlueprintVersion != "v0.1.0" || record.Answers["database"] != "mysql" || record.Answers["package"] != "old_shop" {
		t.Errorf("record %+v", record)
	}
	out, err := exec.Command("git", "-C", dir, "status", "--porcelain").CombinedOutput()
	if err != nil || len(out) != 0 {
		t.Errorf("not a clean, committed work tree: %v %s", err, out)
	}
	err = generateRelease("flask", "v0.1.0", t.TempDir()+"/x", []string{"--database", "sqlite"})
	if !errors.As(err, new(*generator.InputError)) {
		t.Errorf("a combination the release refuses: %v", err)
	}
}
