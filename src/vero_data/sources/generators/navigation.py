"""Spatial tasks (spatial_action): maze routes and jigsaw orderings (``number_list``), relative positions."""

from __future__ import annotations

import random
from collections import deque
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from vero_data.schema import RawSample
from vero_data.sources.base import register_generator
from vero_data.sources.generators.common import (
    COLOUR_NAMES,
    COLOURS,
    SHAPE_NAMES,
    background,
    draw_scene,
    font,
    knobs,
    multiple_choice,
    pick_level,
    rint,
)

MAZE_LEVELS = {
    "easy": {"grid": (5, 6), "waypoints": 3, "distractors": 0},
    "medium": {"grid": (7, 9), "waypoints": 4, "distractors": 2},
    "hard": {"grid": (10, 13), "waypoints": 5, "distractors": 5},
}


def _perfect_maze(rng: random.Random, rows: int, cols: int) -> dict[tuple[int, int], set[tuple[int, int]]]:
    """Depth-first maze: a spanning tree of the grid, so exactly one route joins any two cells."""
    links: dict[tuple[int, int], set[tuple[int, int]]] = {(r, c): set() for r in range(rows) for c in range(cols)}
    stack, seen = [(0, 0)], {(0, 0)}
    while stack:
        r, c = stack[-1]
        nxt = [(r + dr, c + dc) for dr, dc in ((0, 1), (1, 0), (0, -1), (-1, 0))
               if (r + dr, c + dc) in links and (r + dr, c + dc) not in seen]
        if not nxt:
            stack.pop()
            continue
        cell = rng.choice(nxt)
        links[(r, c)].add(cell)
        links[cell].add((r, c))
        seen.add(cell)
        stack.append(cell)
    return links


def _bfs(links, start):
    prev, q = {start: None}, deque([start])
    while q:
        cur = q.popleft()
        for nb in sorted(links[cur]):
            if nb not in prev:
                prev[nb] = cur
                q.append(nb)
    return prev


@register_generator("maze_route", "spatial_action", ["number_list"], difficulty="mixed", levels=MAZE_LEVELS)
def maze_route(rng: random.Random, params: dict[str, Any]) -> RawSample:
    """A maze from S to G with numbered cells; list the numbers on the route in the order they are passed."""
    level = pick_level(rng, params)
    k = knobs(level, MAZE_LEVELS, params)
    size = rint(rng, k["grid"])
    rows, cols = size, size + rng.randint(0, 2)
    links = _perfect_maze(rng, rows, cols)
    start = (rng.randrange(rows), rng.randrange(cols))
    prev = _bfs(links, start)
    goal = max(prev, key=lambda c: (len(_path(prev, c)), c))
    route = _path(prev, goal)
    inner = route[1:-1]
    n_way = min(k["waypoints"], len(inner))
    way_cells = sorted(rng.sample(range(len(inner)), n_way))
    off_route = [c for c in links if c not in set(route)]
    distract = rng.sample(off_route, min(k["distractors"], len(off_route)))
    numbers = rng.sample(range(1, 40), n_way + len(distract))
    labels = {inner[i]: numbers[j] for j, i in enumerate(way_cells)}
    labels.update({c: numbers[n_way + j] for j, c in enumerate(distract)})
    cell = int(min(600 / cols, 440 / rows))
    w, h = cols * cell + 40, rows * cell + 40
    img = background(rng, max(w, 320), max(h, 240))
    d = ImageDraw.Draw(img)
    ox, oy = (img.width - cols * cell) // 2, (img.height - rows * cell) // 2
    wall = (30, 30, 30)
    for (r, c), nbs in links.items():
        x, y = ox + c * cell, oy + r * cell
        if (r, c + 1) not in nbs:
            d.line([(x + cell, y), (x + cell, y + cell)], fill=wall, width=3)
        if (r + 1, c) not in nbs:
            d.line([(x, y + cell), (x + cell, y + cell)], fill=wall, width=3)
    d.rectangle([ox, oy, ox + cols * cell, oy + rows * cell], outline=wall, width=3)
    for (r, c), text, colour in [(start, "S", (20, 130, 40)), (goal, "G", (200, 30, 30))] + [
            (cc, str(v), (30, 60, 200)) for cc, v in sorted(labels.items())]:
        d.text((ox + c * cell + cell / 2, oy + r * cell + cell / 2), text, fill=colour,
               font=font(max(12, int(cell * 0.45))), anchor="mm")
    answer = [labels[c] for c in inner if c in labels]
    q = ("Follow the only path through the maze from S to G. List the numbers on the cells you pass through, "
         "in the order you reach them, separated by commas.")
    return RawSample(question=q, images=[img], answer=answer, reward_type="number_list",
                     extra_info={"difficulty": level, "grid": [rows, cols], "route_length": len(route)})


def _path(prev, cell):
    out = []
    while cell is not None:
        out.append(cell)
        cell = prev[cell]
    return out[::-1]


JIGSAW_LEVELS = {
    "easy": {"tiles": (2, 2), "reference": True},
    "medium": {"tiles": (2, 3), "reference": True},
    "hard": {"tiles": (3, 3), "reference": False},
}


def _picture(rng: random.Random, w: int, h: int) -> Image.Image:
    """A smooth two-axis gradient with large shapes across it: every tile has a unique, continuous position cue."""
    c00, c11 = np.array([rng.randint(0, 255) for _ in range(3)]), np.array([rng.randint(0, 255) for _ in range(3)])
    c01 = np.array([rng.randint(0, 255) for _ in range(3)])
    yy, xx = np.mgrid[0:h, 0:w]
    fx, fy = (xx / (w - 1))[..., None], (yy / (h - 1))[..., None]
    arr = c00 * (1 - fx) * (1 - fy) + c01 * fx * (1 - fy) + c11 * fy
    img = Image.fromarray(arr.clip(0, 255).astype("uint8"), "RGB")
    d = ImageDraw.Draw(img)
    for _ in range(rng.randint(3, 5)):
        r = rng.randint(h // 6, h // 3)
        cx, cy = rng.randint(0, w), rng.randint(0, h)
        col = COLOURS[rng.choice(COLOUR_NAMES)][0]
        if rng.random() < 0.5:
            d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=col, outline=(255, 255, 255), width=4)
        else:
            d.line([(cx - 2 * r, cy - r), (cx + 2 * r, cy + r)], fill=col, width=max(6, r // 4))
    return img


@register_generator("jigsaw", "spatial_action", ["number_list"], difficulty="mixed", levels=JIGSAW_LEVELS)
def jigsaw(rng: random.Random, params: dict[str, Any]) -> RawSample:
    """A picture cut into numbered, shuffled tiles; give the tile numbers that rebuild it in reading order."""
    level = pick_level(rng, params)
    k = knobs(level, JIGSAW_LEVELS, params)
    tr, tc = k["tiles"]
    pw, ph = 480, 360
    pic = _picture(rng, pw, ph)
    tw, th = pw // tc, ph // tr
    tiles = [pic.crop((c * tw, r * th, (c + 1) * tw, (r + 1) * th)) for r in range(tr) for c in range(tc)]
    order = list(range(len(tiles)))
    while order == sorted(order):
        rng.shuffle(order)
    gap = 18
    ref_w = 220 if k["reference"] else 0
    W = tc * (tw + gap) + gap + ref_w + (gap if ref_w else 0)
    H = max(tr * (th + gap) + gap + 40, 420)
    img = background(rng, W, H)
    d = ImageDraw.Draw(img)
    d.text((gap, 12), "Shuffled pieces", fill=(30, 30, 30), font=font(16))
    number_of = {}
    for slot, idx in enumerate(order):
        r, c = divmod(slot, tc)
        x, y = gap + c * (tw + gap), 40 + r * (th + gap)
        img.paste(tiles[idx], (x, y))
        number_of[idx] = slot + 1
        d.rectangle([x + 4, y + 4, x + 34, y + 30], fill=(255, 255, 255), outline=(0, 0, 0))
        d.text((x + 19, y + 17), str(slot + 1), fill=(0, 0, 0), font=font(18), anchor="mm")
    if k["reference"]:
        thumb = pic.resize((ref_w, int(ref_w * ph / pw)), Image.Resampling.BILINEAR)
        rx = W - ref_w - gap
        d.text((rx, 12), "Target picture", fill=(30, 30, 30), font=font(16))
        img.paste(thumb, (rx, 40))
    answer = [number_of[i] for i in range(len(tiles))]
    q = (f"The picture was cut into a {tr}x{tc} grid of numbered pieces and shuffled. List the piece numbers that "
         "rebuild the picture, row by row from the top-left, separated by commas.")
    return RawSample(question=q, images=[img], answer=answer, reward_type="number_list",
                     extra_info={"difficulty": level, "tiles": [tr, tc]})


RELATIVE_LEVELS = {
    "easy": {"n_objects": 3, "radius": (40, 60), "size": (640, 480)},
    "medium": {"n_objects": 5, "radius": (28, 44), "size": (720, 540)},
    "hard": {"n_objects": 8, "radius": (18, 32), "size": (800, 600)},
}
RELATIONS = ["left of", "right of", "above", "below"]


def _relation(a, b) -> str | None:
    """The clear relation of a to b, or None when the offset is too diagonal to name one."""
    dx, dy = a.cx - b.cx, a.cy - b.cy
    if abs(dx) > 2 * abs(dy) and abs(dx) > a.r + b.r:
        return "left of" if dx < 0 else "right of"
    if abs(dy) > 2 * abs(dx) and abs(dy) > a.r + b.r:
        return "above" if dy < 0 else "below"
    return None


@register_generator("relative_position", "spatial_action", ["multiple_choice", "string_match"], difficulty="mixed",
                    levels=RELATIVE_LEVELS)
def relative_position(rng: random.Random, params: dict[str, Any]) -> RawSample:
    """Coloured shapes; say where one is relative to another, or which one is leftmost/topmost."""
    level = pick_level(rng, params)
    k = knobs(level, RELATIVE_LEVELS, params)
    for _ in range(50):
        specs = rng.sample([(s, c) for s in SHAPE_NAMES for c in COLOUR_NAMES], k["n_objects"])
        w, h = k["size"]
        img = background(rng, w, h)
        objs = draw_scene(img, rng, specs, k["radius"])
        pairs = [(a, b, _relation(a, b)) for a in objs for b in objs if a is not b and _relation(a, b)]
        if pairs:
            break
    else:
        raise RuntimeError("no clearly related pair")
    extra: dict[str, Any] = {"difficulty": level, "objects": [o.name for o in objs]}
    if rng.random() < 0.6:
        a, b, rel = rng.choice(pairs)
        choices, letter = multiple_choice(rng, rel, RELATIONS)
        q = f"Where is the {a.name} relative to the {b.name}?"
        return RawSample(question=q, images=[img], answer=letter, reward_type="multiple_choice", choices=choices,
                         extra_info=extra)
    axis = rng.choice(["leftmost", "rightmost", "topmost", "bottommost"])
    key = {"leftmost": lambda o: o.bbox[0], "rightmost": lambda o: -o.bbox[2], "topmost": lambda o: o.bbox[1],
           "bottommost": lambda o: -o.bbox[3]}[axis]
    ranked = sorted(objs, key=key)
    if abs(key(ranked[0]) - key(ranked[1])) < 10:  # too close to call: ask the pair question instead
        a, b, rel = rng.choice(pairs)
        choices, letter = multiple_choice(rng, rel, RELATIONS)
        return RawSample(question=f"Where is the {a.name} relative to the {b.name}?", images=[img], answer=letter,
                         reward_type="multiple_choice", choices=choices, extra_info=extra)
    q = f"Which object is the {axis} in the image? Answer with its colour and shape, e.g. 'red circle'."
    return RawSample(question=q, images=[img], answer=ranked[0].name, reward_type="string_match", extra_info=extra)
