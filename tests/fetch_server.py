"""A local stand-in for the Materials Project API and OQMD's REST API, for the fetch tests (127.0.0.1 only).

The answers follow the services' documented formats, written by us: MP's ``/heartbeat`` and
``/materials/summary/`` (``{"data": [...], "meta": {"total_doc": N}}``, paged with ``_limit`` / ``_skip``, the key in
the ``x-api-key`` header, structures as pymatgen ``Structure.as_dict()``) and OQMD's ``/oqmdapi/formationenergy``
(``links`` / ``data`` / ``meta``, paged with ``limit`` / ``offset``, ``unit_cell`` and ``"El @ x y z"`` sites). The
real ``mp-api`` client and the real OQMD code are pointed at it.

``server.mode`` switches behaviour per test: "ok", "401", "403", "429", "500", "malformed", "empty", "hang" (every
request waits until the server stops) or "hang-data" (the heartbeat answers, data requests hang).
"""

from __future__ import annotations

import functools
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from pymatgen.core import Lattice, Structure

VALID_KEY = "TestKey0123456789abcdefghijklmno"  # 32 letters and digits, like a real MP key
HANG_LIMIT_SECONDS = 60


def _mp_material(material_id: str, structure: Structure, energy: float, formation: float, e_hull: float,
                 spacegroup: str, gap: float = 0.0) -> dict[str, Any]:  # fmt: skip
    return {
        "material_id": material_id,
        "formula_pretty": structure.composition.reduced_formula,
        "structure": structure.as_dict(),
        "energy_per_atom": energy,
        "uncorrected_energy_per_atom": energy + 0.1,
        "formation_energy_per_atom": formation,
        "energy_above_hull": e_hull,
        "is_stable": e_hull == 0.0,
        "band_gap": gap,
        "density": structure.density,
        "volume": structure.volume,
        "nsites": len(structure),
        "symmetry": {"crystal_system": "Cubic", "symbol": spacegroup, "number": 1, "point_group": "1",
                     "symprec": 0.1, "version": "2.5.0"},  # fmt: skip
        "total_magnetization": 0.0,
        "deprecated": False,
        "chemsys": structure.composition.chemical_system,
        "builder_meta": {"emmet_version": "0.87.3"},
    }


def _oqmd_entry(entry_id: int, structure: Structure, delta_e: float, stability: float, prototype: str,
                spacegroup: str) -> dict[str, Any]:  # fmt: skip
    return {
        "name": structure.composition.reduced_formula,
        "entry_id": entry_id,
        "calculation_id": entry_id + 100000,
        "icsd_id": None,
        "formationenergy_id": entry_id + 200000,
        "duplicate_entry_id": entry_id,
        "composition": structure.composition.formula,
        "composition_generic": "AB",
        "prototype": prototype,
        "spacegroup": spacegroup,
        "volume": structure.volume,
        "ntypes": len(structure.composition.elements),
        "natoms": len(structure),
        "unit_cell": structure.lattice.matrix.tolist(),
        "sites": [f"{site.specie} @ {'%0.3g %0.3g %0.3g' % tuple(site.frac_coords)}" for site in structure],
        "band_gap": 0.0,
        "delta_e": delta_e,
        "stability": stability,
        "fit": "standard",
        "calculation_label": "static",
    }


def rocksalt(a: float) -> Structure:
    return Structure.from_spacegroup("Fm-3m", Lattice.cubic(a), ["Ti", "O"], [[0, 0, 0], [0.5, 0.5, 0.5]])


def fluorite(a: float) -> Structure:
    return Structure.from_spacegroup("Fm-3m", Lattice.cubic(a), ["Ti", "O"], [[0, 0, 0], [0.25, 0.25, 0.25]])


def mp_materials() -> list[dict[str, Any]]:
    """Six Ti-O materials (distinct prototypes), two on the hull (a fresh copy each call)."""
    return json.loads(_mp_materials_json())


def oqmd_entries() -> list[dict[str, Any]]:
    """Four Ti-O entries: two the same structures as MP's (slightly different cells), two only in OQMD."""
    return json.loads(_oqmd_entries_json())


@functools.cache
def _mp_materials_json() -> str:  # building the structures takes ~1 s (space-group expansion): once per process
    cscl = Structure(Lattice.cubic(2.6), ["Ti", "O"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    zincblende = Structure.from_spacegroup("F-43m", Lattice.cubic(4.6), ["Ti", "O"], [[0, 0, 0], [0.25, 0.25, 0.25]])
    rutile = Structure.from_spacegroup("P4_2/mnm", Lattice.tetragonal(4.59, 2.96), ["Ti", "O"],
                                       [[0, 0, 0], [0.305, 0.305, 0]])  # fmt: skip
    ti3o = Structure(Lattice.cubic(4.1), ["O", "Ti", "Ti", "Ti"],
                     [[0, 0, 0], [0, 0.5, 0.5], [0.5, 0, 0.5], [0.5, 0.5, 0]])  # fmt: skip
    return json.dumps([
        _mp_material("mp-2664", rocksalt(4.18), -8.90, -2.60, 0.00, "Fm-3m"),
        _mp_material("mp-1001", cscl, -8.10, -1.80, 0.80, "Pm-3m"),
        _mp_material("mp-1002", zincblende, -8.30, -2.00, 0.60, "F-43m"),
        _mp_material("mp-1003", fluorite(4.90), -8.60, -2.90, 0.40, "Fm-3m", gap=1.2),
        _mp_material("mp-2657", rutile, -9.10, -3.40, 0.00, "P4_2/mnm", gap=1.8),
        _mp_material("mp-1004", ti3o, -8.20, -1.50, 0.05, "Pm-3m"),
    ])


@functools.cache
def _oqmd_entries_json() -> str:
    reo3 = Structure(Lattice.cubic(3.8), ["Ti", "O", "O", "O"], [[0, 0, 0], [0.5, 0, 0], [0, 0.5, 0], [0, 0, 0.5]])
    antifluorite = Structure.from_spacegroup("Fm-3m", Lattice.cubic(4.7), ["O", "Ti"],
                                             [[0, 0, 0], [0.25, 0.25, 0.25]])  # fmt: skip
    return json.dumps([
        _oqmd_entry(11001, rocksalt(4.20), -2.75, -0.01, "NaCl", "Fm-3m"),
        _oqmd_entry(11002, fluorite(4.95), -3.05, 0.35, "CaF2", "Fm-3m"),
        _oqmd_entry(11003, reo3, -2.10, 0.70, "ReO3", "Pm-3m"),
        _oqmd_entry(11004, antifluorite, -1.20, 0.08, "CaF2", "Fm-3m"),
    ])


@dataclass
class Request:
    path: str
    params: dict[str, str]
    headers: dict[str, str]


@dataclass
class FakeServices:
    mode: str = "ok"
    mp: list[dict[str, Any]] = field(default_factory=mp_materials)
    oqmd: list[dict[str, Any]] = field(default_factory=oqmd_entries)
    requests: list[Request] = field(default_factory=list)
    released: threading.Event = field(default_factory=threading.Event)
    url: str = ""

    @property
    def mp_endpoint(self) -> str:
        return self.url + "/"

    @property
    def oqmd_endpoint(self) -> str:
        return self.url + "/oqmdapi/"

    def seen(self, path: str) -> list[Request]:
        return [r for r in self.requests if r.path == path]


def _filter_mp(materials: list[dict[str, Any]], params: dict[str, str]) -> list[dict[str, Any]]:
    chemsys = params.get("chemsys")
    wanted = {"-".join(sorted(c.split("-"))) for c in chemsys.split(",")} if chemsys else None
    out = []
    for m in materials:
        if wanted is not None and "-".join(sorted(m["chemsys"].split("-"))) not in wanted:
            continue
        if "energy_above_hull_max" in params and m["energy_above_hull"] > float(params["energy_above_hull_max"]):
            continue
        if "nsites_max" in params and m["nsites"] > int(params["nsites_max"]):
            continue
        if params.get("is_stable") in ("True", "true") and not m["is_stable"]:
            continue
        out.append(m)
    return out


def _filter_oqmd(entries: list[dict[str, Any]], params: dict[str, str]) -> list[dict[str, Any]]:
    elements = set(params.get("composition", "").split("-"))
    out = []
    for e in entries:
        present = {s.split("@")[0].strip() for s in e["sites"]}
        if not present <= elements:
            continue
        keep = True
        for condition in filter(None, params.get("filter", "").split(" AND ")):
            if "<=" in condition:
                key, value = condition.split("<=")
                keep &= e[key] <= float(value)
            else:
                key, value = condition.split("=")
                keep &= e[key] == float(value)
        if keep:
            out.append(e)
    return out


class _Handler(BaseHTTPRequestHandler):
    services: FakeServices

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        pass

    def _send(self, status: int, body: Any, content_type: str = "application/json") -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        s = self.services
        parts = urlsplit(self.path)
        params = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        s.requests.append(Request(parts.path, params, dict(self.headers.items())))
        data_route = parts.path != "/heartbeat"
        if s.mode == "hang" or (s.mode == "hang-data" and data_route):
            s.released.wait(HANG_LIMIT_SECONDS)
            return
        if parts.path == "/heartbeat":
            self._send(200, {"db_version": "2026.01.01", "access_controlled_batch_ids": [], "version": "0.87.3"})
        elif parts.path == "/materials/summary/":
            self._mp_summary(params)
        elif parts.path == "/oqmdapi/formationenergy":
            self._oqmd(params)
        else:
            self._send(404, {"detail": "Not Found"})

    def _errors(self, database: str) -> bool:
        mode = self.services.mode
        if mode in ("401", "403", "429", "500"):
            message = {"401": "Invalid API key", "403": "Forbidden", "429": "Too Many Requests", "500": "Server error"}
            body = {"detail": message[mode]} if database == "mp" else b"<html><body>Error</body></html>"
            self._send(int(mode), body, "application/json" if database == "mp" else "text/html")
            return True
        if mode == "malformed":
            self._send(200, b'{"data": [{"material_id": "mp-1", ', "application/json")
            return True
        return False

    def _mp_summary(self, params: dict[str, str]) -> None:
        if self.headers.get("x-api-key") != VALID_KEY:
            self._send(401, {"detail": "Invalid or missing API key"})
            return
        if self._errors("mp"):
            return
        matches = [] if self.services.mode == "empty" else _filter_mp(self.services.mp, params)
        skip, limit = int(params.get("_skip", 0)), int(params.get("_limit", 1000))
        fields = params["_fields"].split(",") if "_fields" in params else None
        page = [{k: v for k, v in m.items() if fields is None or k in fields} for m in matches[skip : skip + limit]]
        self._send(200, {"data": page, "meta": {"api_version": "0.87.3", "time_stamp": "2026-01-01T00:00:00",
                                                "total_doc": len(matches), "max_limit": 1000}})  # fmt: skip

    def _oqmd(self, params: dict[str, str]) -> None:
        if self._errors("oqmd"):
            return
        matches = [] if self.services.mode == "empty" else _filter_oqmd(self.services.oqmd, params)
        offset, limit = int(params.get("offset", 0)), int(params.get("limit", 50))
        fields = params["fields"].split(",") if "fields" in params else None
        page = [{k: v for k, v in e.items() if fields is None or k in fields} for e in matches[offset : offset + limit]]
        base = f"{self.services.url}/oqmdapi/formationenergy?"
        more = offset + limit < len(matches)
        self._send(200, {
            "links": {"next": base + urlencode({**params, "offset": offset + limit}) if more else None,
                      "previous": base + urlencode({**params, "offset": max(0, offset - limit)}) if offset else None,
                      "base_url": {"href": self.services.url + "/oqmdapi", "meta": {"_oqmd_version": "1.0"}}},
            "resource": {},
            "data": page,
            "meta": {"query": {"representation": "/formationenergy?" + urlencode(params)}, "api_version": "1.0",
                     "time_stamp": "2026-01-01 00:00:00", "data_returned": len(page),
                     "data_available": len(matches), "comments": "", "query_tree": "",
                     "more_data_available": more or offset > 0},
            "response_message": "OK",
        })  # fmt: skip


@pytest.fixture
def services():
    """A running fake MP + OQMD server on 127.0.0.1 (a free port); stopped, and hanging requests released, after."""
    state = FakeServices()
    handler = type("Handler", (_Handler,), {"services": state})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-services",
                              daemon=True)  # fmt: skip
    thread.start()
    yield state
    state.released.set()
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture
def fetch_cache(tmp_path, monkeypatch):
    """A private alcore cache folder for one test (fetched pools are listed as datasets: keep them out of others)."""
    folder = tmp_path / "alcore-cache"
    monkeypatch.setenv("ALCORE_CACHE_DIR", str(folder))
    monkeypatch.delenv("MP_API_KEY", raising=False)
    return folder / "fetch"
