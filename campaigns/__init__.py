"""The bundled campaigns, their calendars and the JSON Schema, installed as `paicha.campaigns`:
package data that paicha reads with importlib.resources (paicha/files.py). Not code."""
