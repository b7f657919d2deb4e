// Command dockerfilecheck parses Dockerfiles with BuildKit's own frontend (the parser and
// instruction checks `docker build` runs first) and prints what each stage does as JSON, or the
// parser's error and exit status 1. No Docker engine is needed.
//
//	dockerfilecheck Dockerfile...
package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// Command is one instruction: its name, its text, and the fields tests look at.
type Command struct {
	Name    string   `json:"name"`
	Text    string   `json:"text"`
	Args    []string `json:"args,omitempty"`    // RUN, CMD, ENTRYPOINT, HEALTHCHECK: the command
	JSON    bool     `json:"json,omitempty"`    // RUN, CMD, ENTRYPOINT: exec (JSON) form
	Sources []string `json:"sources,omitempty"` // COPY
	Dest    string   `json:"dest,omitempty"`    // COPY
	From    string   `json:"from,omitempty"`    // COPY --from
	Env     []string `json:"env,omitempty"`     // ENV: KEY=VALUE
	Ports   []string `json:"ports,omitempty"`   // EXPOSE
	Mounts  []string `json:"mounts,omitempty"`  // RUN --mount: TYPE:TARGET
}

// Stage is one FROM and its instructions.
type Stage struct {
	Name     string    `json:"name"`
	Base     string    `json:"base"`
	Commands []Command `json:"commands"`
}

// File is one parsed Dockerfile.
type File struct {
	Path     string   `json:"path"`
	MetaArgs []string `json:"meta_args"`
	Stages   []Stage  `json:"stages"`
	Warnings []string `json:"warnings"`
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: dockerfilecheck Dockerfile...")
		os.Exit(2)
	}
	var files []File
	for _, path := range os.Args[1:] {
		file, err := parse(path)
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", path, err)
			os.Exit(1)
		}
		files = append(files, file)
	}
	out, err := json.MarshalIndent(files, "", "  ")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(string(out))
}

func parse(path string) (File, error) {
	file := File{Path: path, MetaArgs: []string{}, Stages: []Stage{}, Warnings: []string{}}
	f, err := os.Open(path)
	if err != nil {
		return file, err
	}
	defer f.Close()
	result, err := parser.Parse(f)
	if err != nil {
		return file, err
	}
	for _, w := range result.Warnings {
		file.Warnings = append(file.Warnings, w.Short)
	}
	stages, metaArgs, err := instructions.Parse(result.AST, nil)
	if err != nil {
		return file, err
	}
	for _, arg := range metaArgs {
		for _, kv := range arg.Args {
			file.MetaArgs = append(file.MetaArgs, kv.Key)
		}
	}
	for _, stage := range stages {
		s := Stage{Name: stage.Name, Base: stage.BaseName, Commands: []Command{}}
		for _, cmd := range stage.Commands {
			c, err := describe(cmd)
			if err != nil {
				return file, fmt.Errorf("%s: %w", cmd.Name(), err)
			}
			s.Commands = append(s.Commands, c)
		}
		file.Stages = append(file.Stages, s)
	}
	return file, nil
}

func describe(cmd instructions.Command) (Command, error) {
	c := Command{Name: cmd.Name()}
	if s, ok := cmd.(fmt.Stringer); ok {
		c.Text = s.String()
	}
	switch v := cmd.(type) {
	case *instructions.RunCommand:
		c.Args, c.JSON = v.CmdLine, !v.PrependShell
		// Mount options are checked once expanded; nothing here uses build arguments in them.
		if err := v.Expand(func(word string) (string, error) { return word, nil }); err != nil {
			return c, err
		}
		for _, m := range instructions.GetMounts(v) {
			c.Mounts = append(c.Mounts, string(m.Type)+":"+m.Target)
		}
	case *instructions.CmdCommand:
		c.Args, c.JSON = v.CmdLine, !v.PrependShell
	case *instructions.EntrypointCommand:
		c.Args, c.JSON = v.CmdLine, !v.PrependShell
	case *instructions.HealthCheckCommand:
		c.Args = v.Health.Test // ["CMD", ...] in exec form, ["CMD-SHELL", "..."] in shell form
	case *instructions.CopyCommand:
		c.Sources, c.Dest, c.From = v.SourcePaths, v.DestPath, v.From
	case *instructions.EnvCommand:
		for _, kv := range v.Env {
			c.Env = append(c.Env, kv.Key+"="+kv.Value)
		}
	case *instructions.ExposeCommand:
		c.Ports = v.Ports
	}
	return c, nil
}
