#!/usr/bin/env python3
"""Checks the Swift side as far as this machine can (no Swift compiler installs here,
docs/toolchain.md): every .swift file parses (tree-sitter-swift), the generated C
header compiles (gcc -fsyntax-only), and every FFI function the header declares is
exported by the built library (nm). Prints "swift: N passed, M failed" last.

  swift-check.py LIBRARY SWIFT_OR_HEADER_FILES...
"""
import re
import subprocess
import sys

import tree_sitter_swift
from tree_sitter import Language, Parser


def neutralise(source: str) -> str:
    """tree-sitter-swift 0.7.4 wrongly rejects two constructs UniFFI emits; blank them
    out with spaces so line numbers stay (docs/toolchain.md)."""
    blank = lambda m: re.sub(r"[^\n]", " ", m.group(0))
    source = re.sub(r"#if swift\(>=5\.8\)\s*@_documentation\(visibility: private\)\s*#endif", blank, source)
    return source.replace("{ () }", "{    }")


def errors_in(tree):
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        if node.type == "ERROR" or node.is_missing:
            yield node
        stack.extend(node.children)


def main():
    library, files = sys.argv[1], sys.argv[2:]
    parser = Parser(Language(tree_sitter_swift.language()))
    passed = failed = 0

    def result(ok, what):
        nonlocal passed, failed
        if ok:
            passed += 1
        else:
            failed += 1
        print(("ok    " if ok else "FAIL  ") + what)

    headers = [f for f in files if f.endswith(".h")]
    for path in (f for f in files if f.endswith(".swift")):
        with open(path, encoding="utf-8") as f:
            tree = parser.parse(neutralise(f.read()).encode())
        bad = list(errors_in(tree))
        where = ", ".join(f"line {n.start_point[0] + 1}" for n in bad[:5])
        result(not bad, f"{path} parses" + (f" (errors at {where})" if bad else ""))
    exported = set(subprocess.run(["nm", "-D", "--defined-only", library], capture_output=True, text=True, check=True).stdout.split())
    for path in headers:
        compiled = subprocess.run(["gcc", "-fsyntax-only", "-D_Nullable=", "-D_Nonnull=", "-x", "c", path], capture_output=True, text=True)
        result(compiled.returncode == 0, f"{path} compiles as C" + (": " + compiled.stderr.strip()[:300] if compiled.returncode else ""))
        with open(path, encoding="utf-8") as f:
            declared = set(re.findall(r"\b((?:uniffi|ffi)_[A-Za-z0-9_]+)\s*\(", f.read()))
        missing = sorted(declared - exported)
        result(declared and not missing, f"{len(declared)} FFI functions in {path} exported" + (f"; missing {missing[:5]}" if missing else ""))
    print(f"swift: {passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
