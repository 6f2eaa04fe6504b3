"""The shape the style guide asks for, kept true: no function over 50 lines in the project's packages."""

import ast

from common.settings import PROJECT_ROOT

PACKAGES = ("common", "extract", "transform", "load", "flows", "synth", "schoolnet")
MAX_FUNCTION_LINES = 50


def test_no_function_is_over_50_lines():
    long = []
    for package in PACKAGES:
        for path in sorted((PROJECT_ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    lines = node.end_lineno - node.lineno + 1  # type: ignore[operator]
                    if lines > MAX_FUNCTION_LINES:
                        long.append(f"{path.relative_to(PROJECT_ROOT)}:{node.lineno} {node.name} ({lines} lines)")
    assert long == []
