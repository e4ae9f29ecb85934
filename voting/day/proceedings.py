"""The proceedings (contract 5.2): every scheduled session with its room, time, host, votes
and notes, as data, Markdown and HTML.

Notes are attendee Markdown. They are rendered by markdown-it-py with raw HTML turned off
(tags come out as text) and the result is sanitised again by nh3 (Ammonia), which keeps a
short list of formatting tags and only http(s)/mailto links: no script, no style, no
event handler, whatever the input.
"""

import re

import nh3
from markdown_it import MarkdownIt

from voting.day.live import local_time
from voting.day.models import NoteRevision
from voting.events.models import Event
from voting.schedule.board import placed_sessions, rooms_of, shown_slots_of

_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable("table")

ALLOWED_TAGS = {
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "code", "pre", "blockquote",
    "ul", "ol", "li", "a", "table", "thead", "tbody", "tr", "th", "td", "del",
}  # fmt: skip


def render_markdown(text: str) -> str:
    """Safe HTML for attendee Markdown."""
    html = _markdown.render(text or "")
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes={"a": {"href", "title"}, "th": {"align"}, "td": {"align"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="nofollow noopener noreferrer",
    )


def sessions(event: Event, *, show_counts: bool) -> list[dict]:
    """Every scheduled session of a published proposal, in time then room order, with notes."""
    rooms, slots = rooms_of(event), shown_slots_of(event)
    placed = placed_sessions(event, rooms, slots)
    room_by_id = {r.pk: r for r in rooms}
    slot_by_id = {s.pk: s for s in slots}
    notes: dict[int, NoteRevision] = {}
    for revision in NoteRevision.objects.filter(proposal_id__in=[s.proposal_id for s in placed]).order_by(
        "revision"
    ):
        notes[revision.proposal_id] = revision  # the newest wins
    rows = []
    for session in placed:
        slot, note = slot_by_id[session.slot_id], notes.get(session.proposal_id)
        row = {
            "proposal": session.proposal_id,
            "title": session.proposal.title,
            "host_name": session.proposal.host_name,
            "room": room_by_id[session.room_id].name,
            "starts_at": slot.starts_at.isoformat(),
            "ends_at": slot.ends_at.isoformat(),
            "time": f"{local_time(slot.starts_at)}–{local_time(slot.ends_at)}",
            "notes": note.text if note else "",
            "notes_revision": note.revision if note else 0,
        }
        if show_counts:
            row["dots"] = session.proposal.dots
            row["voters"] = session.proposal.voters
        rows.append(row)
    return rows


def as_json(event: Event, *, show_counts: bool) -> dict:
    return {
        "event": {"slug": event.slug, "name": event.name},
        "published": event.proceedings_published,
        "sessions": sessions(event, show_counts=show_counts),
    }


def _md_line(text: str) -> str:
    """Titles and names are plain text: keep them from turning into Markdown (emphasis, links,
    HTML, code) or, at the start of a line, into a heading, list or quote."""
    text = "".join("\\" + ch if ch in "\\`*_[]<>|" else ch for ch in text.replace("\n", " "))
    text = re.sub(r"^(\d+)([.)])", r"\1\\\2", text)  # "1. Intro" is not a list item
    return "\\" + text if text[:1] in ("#", "-", "+", "=", ">") else text


def as_markdown(event: Event, *, show_counts: bool) -> str:
    parts = [f"# {_md_line(event.name)}: proceedings", ""]
    for row in sessions(event, show_counts=show_counts):
        parts.append(f"## {_md_line(row['title'])}")
        meta = [row["time"], row["room"]]
        if row["host_name"]:
            meta.append(row["host_name"])
        if show_counts:
            meta.append(f"{row['dots']} dots, {row['voters']} voters")
        parts += [_md_line(" · ".join(meta)), "", row["notes"].strip() or "_No notes._", ""]
    return "\n".join(parts).rstrip() + "\n"


def with_html(rows: list[dict]) -> list[dict]:
    """The rows with their notes rendered (for the page and proceedings.html)."""
    return [{**row, "notes_html": render_markdown(row["notes"])} for row in rows]
