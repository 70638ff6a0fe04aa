"""Regenerate the Python code derived from the contracts in ``schemas/``.

``python -m schemas.build``          write the generated files beside their sources
``python -m schemas.build --check``  exit 1 (listing the files) if any generated file is stale

Generated here:
- ``<name>_pb2.py`` / ``<name>_pb2.pyi`` for every ``*.proto`` (grpcio-tools' protoc), and
  ``<name>_pb2_grpc.py`` for the files that declare a ``service``;
- ``e2sm_kpm_asn.py`` from ``e2sm_kpm.asn`` (pycrate's ASN.1 compiler).
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import tempfile
from pathlib import Path

SCHEMAS_DIR = Path(__file__).resolve().parent
REPO_ROOT = SCHEMAS_DIR.parent
KPM_ASN = "e2sm_kpm.asn"
KPM_MODULE = "e2sm_kpm_asn.py"


def _generate_protos(out_root: Path) -> list[Path]:
    from grpc_tools import protoc  # build-time only (dev extra)

    protos = sorted(SCHEMAS_DIR.glob("*.proto"))
    include = str(Path(protoc.__file__).resolve().parent / "_proto")
    written: list[Path] = []
    for proto in protos:
        rel = proto.relative_to(REPO_ROOT)
        args = ["protoc", f"-I{REPO_ROOT}", f"-I{include}",
                f"--python_out={out_root}", f"--pyi_out={out_root}"]
        if re.search(r"^\s*service\s+\w+", proto.read_text(), re.MULTILINE):
            args.append(f"--grpc_python_out={out_root}")
            written.append(out_root / rel.with_name(proto.stem + "_pb2_grpc.py"))
        if protoc.main([*args, str(rel)]) != 0:
            raise SystemExit(f"protoc failed on {rel}")
        written += [out_root / rel.with_name(proto.stem + "_pb2.py"),
                    out_root / rel.with_name(proto.stem + "_pb2.pyi")]
    return written


def _generate_kpm(out_root: Path) -> list[Path]:
    source = SCHEMAS_DIR / KPM_ASN
    if not source.exists():
        return []
    from pycrate_asn1c.asnproc import GLOBAL, PycrateGenerator, compile_text, generate_modules

    GLOBAL.clear()
    compile_text(source.read_text())
    target = out_root / "schemas" / KPM_MODULE
    target.parent.mkdir(parents=True, exist_ok=True)
    generate_modules(PycrateGenerator, str(target))
    GLOBAL.clear()
    # pycrate stamps the generation time in its header: drop it so output is reproducible.
    lines = [ln for ln in target.read_text().splitlines() if not ln.startswith("# Generated on")]
    # Its star imports and dynamic attributes are not typable: mypy follows the codec's import
    # of this module into it, so tell mypy to skip it.
    lines.insert(1, "# mypy: ignore-errors")
    target.write_text("\n".join(lines) + "\n")
    return [target]


def generate(out_root: Path) -> list[Path]:
    """Write every generated file under ``out_root`` (mirroring the repository layout)."""
    (out_root / "schemas").mkdir(parents=True, exist_ok=True)
    return _generate_protos(out_root) + _generate_kpm(out_root)


def stale_files() -> list[str]:
    """Generated files in the repository that differ from a fresh generation."""
    with tempfile.TemporaryDirectory() as tmp:
        fresh = generate(Path(tmp))
        stale = []
        for path in fresh:
            rel = path.relative_to(tmp)
            current = REPO_ROOT / rel
            if not current.exists() or current.read_bytes() != path.read_bytes():
                stale.append(str(rel))
        return stale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report stale files")
    args = parser.parse_args(argv)
    if args.check:
        stale = stale_files()
        for name in stale:
            print(f"stale: {name} (run python -m schemas.build)")
        return 1 if stale else 0
    with tempfile.TemporaryDirectory() as tmp:
        for path in generate(Path(tmp)):
            rel = path.relative_to(tmp)
            shutil.copyfile(path, REPO_ROOT / rel)
            print(f"wrote {rel}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
