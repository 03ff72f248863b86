"""The energy-reference setting shared by Explore, Compare and Learn: one selector, and for ``given`` a text field of
element energies (``Ti=-1604.6, O=-432.5``). Keys take a page prefix (``cmp_`` on Compare)."""

from __future__ import annotations

from typing import Any, Mapping

import streamlit as st

from alcore.config import RunConfig
from alcore.references import AUTO, REFERENCES, parse_energies
from ui.urlstate import Setting

CHOICES = [AUTO, *REFERENCES.names()]
HELP = ("What the committee learns on top of. **none**: absolute energies. **fitted**: per-element energies fitted on "
        "the labelled set each round (never the test split), so the committee learns what composition does not "
        "explain. **given**: the per-element energies you type, in eV/atom (e.g. isolated atoms). **auto**: fitted "
        "for an energy_per_atom target with two or more elements, else none. Errors stay in the target's own units.")


def reference_settings(prefix: str) -> list[Setting]:
    """The reference's name and the ``given`` energies as text, both in the URL."""
    return [Setting(f"{prefix}energy_reference", RunConfig.energy_reference, str, options=CHOICES),
            Setting(f"{prefix}reference_energies", "", str)]


def reference_fields(values: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """RunConfig's reference fields from the widget values (the energies count only for ``given``); a malformed
    energy list raises ValueError naming the problem."""
    name = values[f"{prefix}energy_reference"]
    if name != "given":
        return {"energy_reference": name}
    energies = parse_energies(values[f"{prefix}reference_energies"], "Element energies")
    return {"energy_reference": name, "energy_reference_params": {"energies": energies}}


def reference_widgets(prefix: str) -> None:
    """The selector, and the energies field when ``given`` is chosen."""
    st.selectbox("Energy reference", CHOICES, key=f"{prefix}energy_reference", help=HELP,
                 format_func=lambda n: n if n == AUTO else REFERENCES.spec(n).display_name)
    if st.session_state[f"{prefix}energy_reference"] == "given":
        st.text_input("Element energies (eV/atom)", key=f"{prefix}reference_energies",
                      placeholder="Ti=-1604.6, O=-432.5")
