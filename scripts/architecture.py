#!/usr/bin/env python3
"""Draws the workspace's crates and the core's layers from the code, into
docs/architecture.md between its architecture markers, so the drawing cannot drift from
what the code does. Python 3.11+ (tomllib), standard library only.

  architecture.py           rewrite the section from the code
  architecture.py --check   exit 1 if the section differs from the code (scripts/test.sh)

Either way a circle between core modules is named, and the exit status is 1: dependence
in the core runs one way.

Crates: the workspace members in Cargo.toml and the path dependencies between them.
Core layers: each top-level module under core/src/ and the other top-level modules its
files name as `crate::<module>` (or through a name lib.rs re-exports from one). Test code
is left out: tests.rs files, and modules and items under `#[cfg(test)]`.
"""
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "architecture.md"
CORE_SRC = ROOT / "core" / "src"
BEGIN = "<!-- architecture:begin -->"
END = "<!-- architecture:end -->"
REFRESH = "python3 scripts/architecture.py"
# The crate's `Error`: every layer returns it and it wraps each layer's own error (`From`),
# so it is used by all and uses all. Left out of the drawing's arrows and of the circle
# check; the plain list still names what it uses.
SHARED = {"error"}


# ---- crates ---------------------------------------------------------------------------

def crates():
    """(name, folder, {dependency name: kind}) per workspace member, sorted by name."""
    workspace = tomllib.loads((ROOT / "Cargo.toml").read_text())["workspace"]
    members = {}
    for folder in workspace["members"]:
        manifest = tomllib.loads((ROOT / folder / "Cargo.toml").read_text())
        members[(ROOT / folder).resolve()] = (manifest["package"]["name"], folder, manifest)
    out = []
    for path, (name, folder, manifest) in members.items():
        deps = {}
        tables = [("dependencies", manifest), ("dev-dependencies", manifest),
                  ("build-dependencies", manifest)]
        for target in manifest.get("target", {}).values():
            tables += [(kind, target) for kind in
                       ("dependencies", "dev-dependencies", "build-dependencies")]
        for kind, table in tables:
            for dep in table.get(kind, {}).values():
                if not isinstance(dep, dict) or "path" not in dep:
                    continue
                target_path = (path / dep["path"]).resolve()
                if target_path in members:
                    dep_name = members[target_path][0]
                    # A normal dependency outranks the same crate as a dev-dependency.
                    if deps.get(dep_name) != "dependencies":
                        deps[dep_name] = kind
        out.append((name, folder, deps))
    return sorted(out)


# ---- core modules ---------------------------------------------------------------------

def strip_comments_and_strings(text):
    """The source with comments, string and char literals blanked (newlines kept), so
    braces and paths are only the code's."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif text.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if text.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            out.append("\n" * text.count("\n", i, j))
            i = j
        elif c in "br" and (m := re.match(r'b?r(#*)"', text[i:i + 260])) and (i == 0 or not (
                text[i - 1].isalnum() or text[i - 1] == "_")):
            close = '"' + m.group(1)
            j = text.find(close, i + m.end())
            j = n if j < 0 else j + len(close)
            out.append('""' + "\n" * text.count("\n", i, j))
            i = j
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append('""' + "\n" * text.count("\n", i, j))
            i = j + 1
        elif c == "'" and (m := re.match(r"'(\\.[^']*|[^\\'])'", text[i:i + 12])):
            out.append("' '")
            i += m.end()
        else:
            out.append(c)
            i += 1
    return "".join(out)


def item_end(code, start):
    """Where the item starting at `start` ends: after its `;` or its closing brace."""
    depth = 0
    for j in range(start, len(code)):
        if code[j] in "{([":
            depth += 1
        elif code[j] in "})]":
            depth -= 1
            if depth == 0 and code[j] == "}":
                return j + 1
        elif code[j] == ";" and depth == 0:
            return j + 1
    return len(code)


CFG_TEST = re.compile(r"#\[cfg\(test\)\]")
ATTRIBUTE = re.compile(r"\s*#!?\[[^\]]*\]")
MOD_FILE = re.compile(r"\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+(\w+)\s*;")


def without_tests(code):
    """The code without items under `#[cfg(test)]`, and the names of modules it
    declares out of line under it (their files are test code)."""
    test_modules = set()
    kept, i = [], 0
    for m in CFG_TEST.finditer(code):
        if m.start() < i:
            continue
        kept.append(code[i:m.start()])
        j = m.end()
        while (a := ATTRIBUTE.match(code, j)):
            j = a.end()
        if (f := MOD_FILE.match(code, j)):
            test_modules.add(f.group(1))
        i = item_end(code, j)
    kept.append(code[i:])
    return "".join(kept), test_modules


def module_files(path, test_modules=frozenset()):
    """The non-test source files of the module whose file is `path`, following its
    out-of-line `mod` declarations (`foo.rs` or `foo/mod.rs`, next to it or under it)."""
    if path.name == "tests.rs":
        return []
    code, tests = without_tests(strip_comments_and_strings(path.read_text()))
    files = [(path, code)]
    folder = path.parent if path.name in ("mod.rs", "lib.rs") else path.with_suffix("")
    for m in re.finditer(r"(?:^|[;{}\s])(?:pub(?:\([^)]*\))?\s+)?mod\s+(\w+)\s*;", code):
        name = m.group(1)
        if name in tests or name in test_modules:
            continue
        for child in (folder / f"{name}.rs", folder / name / "mod.rs"):
            if child.exists():
                files += module_files(child)
                break
    return files


def core_modules():
    """{module: set of other top-level modules it uses}, from core/src/lib.rs."""
    lib = strip_comments_and_strings((CORE_SRC / "lib.rs").read_text())
    lib, _ = without_tests(lib)
    modules = sorted(re.findall(r"(?:pub(?:\([^)]*\))?\s+)?\bmod\s+(\w+)\s*;", lib))
    # Names lib.rs re-exports from a module (`crate::Error` is `error`'s).
    reexported = {}
    for m in re.finditer(r"pub\s+use\s+(\w+)::(\{[^}]*\}|\w+)\s*;", lib):
        for name in re.findall(r"\w+", m.group(2)):
            reexported[name] = m.group(1)
    uses = {}
    for module in modules:
        path = CORE_SRC / f"{module}.rs"
        if not path.exists():
            path = CORE_SRC / module / "mod.rs"
        used = set()
        for _, code in module_files(path):
            for name in crate_names(code):
                target = name if name in modules else reexported.get(name)
                if target and target != module:
                    used.add(target)
        uses[module] = used
    return uses


def crate_names(code):
    """The first segment of every `crate::` path, `crate::{a::x, b}` giving a and b."""
    names = []
    for m in re.finditer(r"\bcrate\s*::\s*(\w+|\{)", code):
        if m.group(1) != "{":
            names.append(m.group(1))
            continue
        group = code[m.end() - 1:item_end(code, m.end() - 1)]
        depth, start = 0, 1
        for j, c in enumerate(group):
            if c == "{":
                depth += 1
            elif c == "}":
                depth -= 1
            if (c == "," and depth == 1) or (c == "}" and depth == 0):
                first = re.match(r"\s*(\w+)", group[start:j])
                if first:
                    names.append(first.group(1))
                start = j + 1
    return names


def circles(uses):
    """Strongly connected groups of two or more modules (Tarjan), each sorted."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(uses.get(v, set()) - SHARED):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for v in sorted(set(uses) - SHARED):
        if v not in index:
            visit(v)
    return sorted(found)


# ---- rendering ------------------------------------------------------------------------

def node(name):
    return re.sub(r"\W", "_", name)


def render(crate_list, uses, found):
    lines = [
        BEGIN,
        f"<!-- Written by `{REFRESH}` from the code; edit the code, not this. -->",
        "",
        "Crates (workspace members; a dotted arrow is a dev-dependency only):",
        "",
        "```mermaid",
        "graph TD",
    ]
    for name, folder, deps in crate_list:
        lines.append(f'    {node(name)}["{name}<br>{folder}/"]')
    for name, _, deps in crate_list:
        for dep, kind in sorted(deps.items()):
            arrow = "-.->" if kind == "dev-dependencies" else "-->"
            lines.append(f"    {node(name)} {arrow} {node(dep)}")
    lines += ["```", "", "```"]
    for name, _, deps in crate_list:
        named = [d + (" (dev)" if k == "dev-dependencies" else "") for d, k in sorted(deps.items())]
        lines.append(f"{name} -> {', '.join(named) if named else '(none)'}")
    lines += [
        "```",
        "",
        "Core modules (core/src/): each arrow points at a module whose items the other's",
        "non-test code names (`crate::<module>`). `error`, the crate's `Error` that every",
        "layer returns and that wraps each layer's own error, is left out of the arrows:",
        "",
        "```mermaid",
        "graph TD",
    ]
    drawn = sorted(set(uses) - SHARED)
    for module in drawn:
        if not uses[module] - SHARED and not any(module in uses[u] for u in drawn):
            lines.append(f"    {node(module)}")
    for module in drawn:
        for used in sorted(uses[module] - SHARED):
            lines.append(f"    {node(module)} --> {node(used)}")
    lines += ["```", "", "```"]
    for module in sorted(uses):
        named = ", ".join(sorted(uses[module])) or "(none)"
        lines.append(f"{module} -> {named}")
    lines += ["```", ""]
    if found:
        lines.append("Circles between core modules: "
                     + "; ".join(" <-> ".join(group) for group in found) + ".")
    else:
        lines.append("Circles between core modules: none.")
    lines.append(END)
    return "\n".join(lines)


def main(argv):
    check = argv[1:] == ["--check"]
    if argv[1:] not in ([], ["--check"]):
        print(__doc__, file=sys.stderr)
        return 2
    uses = core_modules()
    found = circles(uses)
    section = render(crates(), uses, found)
    doc = DOC.read_text()
    if doc.count(BEGIN) != 1 or doc.count(END) != 1 or doc.index(BEGIN) > doc.index(END):
        print(f"{DOC.relative_to(ROOT)} must hold {BEGIN} and then {END}, once each",
              file=sys.stderr)
        return 1
    before, rest = doc.split(BEGIN)
    _, after = rest.split(END)
    wanted = before + section + after
    status = 0
    for group in found:
        print("core modules use each other in a circle: " + " <-> ".join(group)
              + " (dependence should run one way; see docs/architecture.md)", file=sys.stderr)
        status = 1
    if check:
        if doc != wanted:
            print(f"{DOC.relative_to(ROOT)}'s \"Drawn from the code\" section differs from "
                  f"what the code gives: run `{REFRESH}` and commit the result",
                  file=sys.stderr)
            status = 1
        return status
    if doc != wanted:
        DOC.write_text(wanted)
        print(f"rewrote the drawing in {DOC.relative_to(ROOT)}")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv))
