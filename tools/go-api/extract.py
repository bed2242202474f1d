#!/usr/bin/env python3
"""List the exported identifiers of a Go package from `go doc -all` output.

Usage: go doc -all . | tools/go-api/extract.py > list.txt
       tools/go-api/extract.py --pkgsite < page.txt > list.txt
(--pkgsite: the text of a pkg.go.dev page, whose struct bodies and const
blocks lose go doc's indentation.)

One identifier per line, sorted, with its kind and area:
  <name> <kind> <area>
name: package-level names (`NewClient`, `DefaultTimeout`), types
(`Sandbox`), their exported fields and methods (`Sandbox.ID`,
`Sandbox.Pause`); kind: const, func, type, field or method; area: core,
volumes or templates (which issue owns the identifier, decided by name).
"""
import re
import sys

# "func (r *T) Name(" in go doc; "func (*T) Name ¶" on pkg.go.dev pages.
FUNC = re.compile(r"^func (?:\((?:\w+ )?\*?(\w+)\) )?([A-Z]\w*)(?:\(| \u00b6)")
TYPE = re.compile(r"^type ([A-Z]\w*)(?: |$)")
CONST = re.compile(r"^(?:const|var) ([A-Z]\w*)\b")
BLOCK_NAME = re.compile(r"^\t([A-Z]\w*)\b")
FIELD = re.compile(r"^\t([A-Z]\w*(?:, [A-Z]\w*)*)\s")

VOLUME = re.compile(r"Volume")
TEMPLATE = re.compile(
    r"^(Build|ImageRegistry|TemplateBuild|TemplateStep|StartBuildConfig|NewTemplate|WaitFor|"
    r"WithBuild|Client\.(CheckBuildFiles|UploadBuildFiles|StartTemplateBuild|"
    r"GetBuildStatus|GetTemplateBuildLogs)$)")


def area(name):
    if VOLUME.search(name):
        return "volumes"
    if TEMPLATE.search(name):
        return "templates"
    return "core"


def extract(lines):
    names = {}
    struct = None  # type whose body is being read
    depth = 0
    in_const_block = False
    for line in lines:
        line = line.rstrip("\n")
        if struct is not None:
            if depth == 1:
                m = FIELD.match(line)
                if m:
                    for field in m.group(1).split(", "):
                        names[f"{struct}.{field}"] = "field"
            depth += line.count("{") - line.count("}")
            if depth <= 0:
                struct = None
            continue
        if in_const_block:
            if line.startswith(")"):
                in_const_block = False
                continue
            m = BLOCK_NAME.match(line)
            if m:
                names[m.group(1)] = "const"
            continue
        if line in ("const (", "var ("):
            in_const_block = True
            continue
        m = FUNC.match(line)
        if m:
            receiver, name = m.groups()
            if receiver:
                names[f"{receiver}.{name}"] = "method"
            else:
                names[name] = "func"
            continue
        m = TYPE.match(line)
        if m:
            names[m.group(1)] = "type"
            if line.endswith("struct {"):
                struct, depth = m.group(1), 1
            elif line.endswith("{"):
                struct, depth = None, 0
                # interface bodies: only "Has unexported methods" in this SDK
            continue
        m = CONST.match(line)
        if m:
            names[m.group(1)] = "const"
    return sorted(names.items())


def from_pkgsite(lines):
    """Puts back the tab before struct fields and const-block names."""
    depth = 0
    for line in lines:
        line = line.rstrip("\n")
        if depth > 0:
            yield ("\t" + line) if depth == 1 and not line.startswith("}") else line
            depth += line.count("{") - line.count("}")
            continue
        # "const ( // doc Name = value ... )" on one line
        if line.startswith("const (") and line.rstrip().endswith(")"):
            yield "const ("
            for name in re.findall(r"\b([A-Z]\w*) = ", line):
                yield "\t" + name
            yield ")"
            continue
        if re.match(r"^type \w+ struct \{$", line):
            depth = 1
        yield line


def main():
    lines = sys.stdin
    if "--pkgsite" in sys.argv[1:]:
        lines = from_pkgsite(sys.stdin)
    for name, kind in extract(lines):
        print(f"{name} {kind} {area(name)}")


if __name__ == "__main__":
    main()
