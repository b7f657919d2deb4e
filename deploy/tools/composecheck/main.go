// Command composecheck loads a compose file the way `docker compose config` does and prints the
// resulting model as JSON, or the loader's error and exit status 1.
//
// It uses compose-go, the loader inside Docker Compose: schema validation, interpolation,
// env_file resolution, normalisation and the consistency checks (every depends_on, network,
// volume and secret defined). It needs no Docker engine, so the tests run it anywhere Go is.
//
//	composecheck [--env-file FILE]... [--env KEY=VALUE]... compose.yaml
//
// Unlike `docker compose`, it ignores the caller's environment and the default .env file: the
// model depends only on the files and flags given, so a test sees what a fresh clone sees.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/compose-spec/compose-go/v2/cli"
)

type repeated []string

func (r *repeated) String() string     { return strings.Join(*r, ",") }
func (r *repeated) Set(v string) error { *r = append(*r, v); return nil }

func main() {
	var envFiles, env repeated
	flag.Var(&envFiles, "env-file", "file of KEY=VALUE lines for interpolation (repeatable)")
	flag.Var(&env, "env", "KEY=VALUE for interpolation (repeatable)")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: composecheck [--env-file FILE]... [--env KEY=VALUE]... compose.yaml")
		os.Exit(2)
	}
	if err := run(flag.Arg(0), envFiles, env); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(file string, envFiles, env []string) error {
	// Without env files, none at all: not even a .env beside the compose file.
	if len(envFiles) == 0 {
		if err := os.Setenv("COMPOSE_DISABLE_ENV_FILE", "true"); err != nil {
			return err
		}
	}
	options, err := cli.NewProjectOptions(
		[]string{file},
		cli.WithEnv(env),
		cli.WithEnvFiles(envFiles...),
		cli.WithDotEnv,
		cli.WithConsistency(true),
		cli.WithResolvedPaths(true),
	)
	if err != nil {
		return err
	}
	project, err := options.LoadProject(context.Background())
	if err != nil {
		return err
	}
	out, err := project.MarshalJSON()
	if err != nil {
		return err
	}
	_, err = os.Stdout.Write(append(out, '\n'))
	return err
}
