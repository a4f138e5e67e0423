"""CSV (claims, facts) and JSON-LD with W3C PROV-O terms (claims, sources)."""

import csv
import io

from rest_framework.renderers import BaseRenderer, JSONRenderer


def _items(data):
    """The records of a list page, or the one record of a detail response."""
    if isinstance(data, dict) and "results" in data:
        return data["results"], True
    return [data], False


class CSVRenderer(BaseRenderer):
    """One row per record; the view says which columns (``csv_row``). Errors come out as
    parameter,message rows. The next page's link is in the Link header."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        context = renderer_context or {}
        response, view = context.get("response"), context.get("view")
        out = io.StringIO()
        writer = csv.writer(out)
        if response is not None and response.status_code >= 400:
            writer.writerow(["parameter", "message"])
            for field, messages in (data if isinstance(data, dict) else {}).items():
                for message in messages if isinstance(messages, list) else [messages]:
                    writer.writerow([field, message])
            return out.getvalue().encode(self.charset)
        items, is_list = _items(data)
        rows = [view.csv_row(item) for item in items]
        columns = list(rows[0]) if rows else list(view.csv_row(None))
        writer.writerow(columns)
        for row in rows:
            writer.writerow([row[column] for column in columns])
        if is_list and response is not None and data.get("next"):
            response["Link"] = f'<{data["next"]}>; rel="next"'
        return out.getvalue().encode(self.charset)


PROV_CONTEXT = {
    "prov": "http://www.w3.org/ns/prov#",
    "dcterms": "http://purl.org/dc/terms/",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "strata": "urn:strata:",
}


class JSONLDRenderer(JSONRenderer):
    """Records as prov:Entity nodes; the view says how (``jsonld_node``)."""

    media_type = "application/ld+json"
    format = "jsonld"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        context = renderer_context or {}
        response, view = context.get("response"), context.get("view")
        if response is not None and response.status_code >= 400:
            return super().render(data, accepted_media_type, renderer_context)
        items, is_list = _items(data)
        request = context.get("request")
        nodes = [view.jsonld_node(item, request) for item in items]
        if is_list:
            document = {"@context": PROV_CONTEXT, "@graph": nodes}
            if data.get("next"):
                document["strata:next"] = {"@id": data["next"]}
        else:
            document = {"@context": PROV_CONTEXT, **nodes[0]}
        return super().render(document, accepted_media_type, renderer_context)
