"""Synthetic web-page screenshots: next-action prediction (``web_action``) and click targets (``clicking``).

One renderer lays out a navigation bar, a search box, a sign-in form, a language menu and product cards, and
records every interactive element's pixel box; the two generators ask different questions about the same kind of page.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from PIL import Image, ImageDraw

from vero_data.schema import RawSample
from vero_data.sources.base import register_generator
from vero_data.sources.generators.common import background, font, knobs, pick_level

SITES = ["ShopNest", "Gadgetly", "BookBarn", "GreenLeaf", "UrbanWear", "PetPal", "HomeHub", "TrailGear"]
NAV = ["Home", "Products", "Deals", "About", "Contact", "Blog", "Careers", "Support"]
PRODUCTS = ["Desk Lamp", "Water Bottle", "Backpack", "Headphones", "Notebook", "Coffee Mug", "Sunglasses",
            "Yoga Mat", "Umbrella", "Wall Clock", "Keyboard", "Plant Pot"]
QUERIES = ["wireless mouse", "running shoes", "green tea", "usb cable", "winter jacket", "road map", "desk chair"]
LANGUAGES = ["English", "French", "German", "Spanish", "Italian"]
NAMES = ["ana", "li", "omar", "kate", "raj", "sven", "mia", "tom"]


@dataclass
class UIElement:
    """An interactive element: what it is, what it says and where it is drawn."""

    kind: str  # link | button | input | select | checkbox
    label: str
    bbox: list[int]
    description: str


UI_LEVELS = {
    "easy": {"nav_links": 3, "products": 0, "form": False, "size": (800, 600), "font_size": 18},
    "medium": {"nav_links": 5, "products": 3, "form": True, "size": (1024, 768), "font_size": 16},
    "hard": {"nav_links": 7, "products": 6, "form": True, "size": (1280, 800), "font_size": 14},
}


def render_page(rng: random.Random, k: dict[str, Any]) -> tuple[Image.Image, list[UIElement]]:
    """Draw a page; return it with its interactive elements in drawing order."""
    w, h = k["size"]
    fs = k["font_size"]
    img = background(rng, w, h)
    d = ImageDraw.Draw(img)
    els: list[UIElement] = []
    accent = rng.choice([(30, 90, 200), (20, 140, 90), (190, 60, 40), (110, 60, 170), (40, 40, 40)])
    bar = rng.randint(48, 64)  # layout jitter: element boxes (and so click answers) differ between rows
    d.rectangle([0, 0, w, bar], fill=accent)
    site = rng.choice(SITES)
    d.text((20, bar // 2), site, fill=(255, 255, 255), font=font(24), anchor="lm")
    x = rng.randint(200, 260)
    for name in rng.sample(NAV, k["nav_links"]):
        tw = int(d.textlength(name, font=font(fs)))
        d.text((x, bar // 2), name, fill=(255, 255, 255), font=font(fs), anchor="lm")
        els.append(UIElement("link", name, [x - 4, bar // 2 - 12, x + tw + 4, bar // 2 + 12],
                             f"the '{name}' link in the top navigation bar"))
        x += tw + 32
    # search box + button
    sx, sy = rng.randint(16, 60), bar + rng.randint(16, 40)
    sw = min(420, w // 2 - 40)
    d.rectangle([sx, sy, sx + sw, sy + 38], fill=(255, 255, 255), outline=(150, 150, 150), width=2)
    d.text((sx + 10, sy + 19), "Search products...", fill=(150, 150, 150), font=font(fs), anchor="lm")
    els.append(UIElement("input", "Search", [sx, sy, sx + sw, sy + 38], "the search box"))
    bx = sx + sw + 10
    d.rectangle([bx, sy, bx + 96, sy + 38], fill=accent)
    d.text((bx + 48, sy + 19), "Search", fill=(255, 255, 255), font=font(fs), anchor="mm")
    els.append(UIElement("button", "Search", [bx, sy, bx + 96, sy + 38], "the 'Search' button"))
    # language menu, top right under the bar
    lx = w - rng.randint(210, 260)
    lang = rng.choice(LANGUAGES)
    d.rectangle([lx, sy, lx + 190, sy + 38], fill=(255, 255, 255), outline=(150, 150, 150), width=2)
    d.text((lx + 10, sy + 19), f"Language: {lang}  v", fill=(40, 40, 40), font=font(fs), anchor="lm")
    els.append(UIElement("select", "Language", [lx, sy, lx + 190, sy + 38], "the language menu"))
    y = sy + rng.randint(60, 90)
    form_left = rng.random() < 0.5
    if k["form"]:
        fx = 20 if form_left else w - rng.randint(350, 380)
        d.rectangle([fx, y, fx + 330, y + 250], fill=(250, 250, 250), outline=(200, 200, 200), width=2)
        d.text((fx + 16, y + 20), "Sign in", fill=(30, 30, 30), font=font(fs + 4), anchor="lm")
        for i, field in enumerate(["Email", "Password"]):
            fy = y + 50 + i * 70
            d.text((fx + 16, fy), field, fill=(60, 60, 60), font=font(fs - 2))
            box = [fx + 16, fy + 22, fx + 314, fy + 56]
            d.rectangle(box, fill=(255, 255, 255), outline=(150, 150, 150), width=2)
            els.append(UIElement("input", field, box, f"the '{field}' field of the sign-in form"))
        cb = [fx + 16, y + 196, fx + 34, y + 214]
        d.rectangle(cb, outline=(80, 80, 80), width=2)
        d.text((fx + 42, y + 205), "Remember me", fill=(60, 60, 60), font=font(fs - 2), anchor="lm")
        els.append(UIElement("checkbox", "Remember me", cb, "the 'Remember me' checkbox"))
        sb = [fx + 200, y + 190, fx + 314, y + 222]
        d.rectangle(sb, fill=accent)
        d.text(((sb[0] + sb[2]) / 2, (sb[1] + sb[3]) / 2), "Sign in", fill=(255, 255, 255), font=font(fs), anchor="mm")
        els.append(UIElement("button", "Sign in", sb, "the 'Sign in' button"))
    if k["products"]:
        cols = 3
        cw = (w - (400 if k["form"] else 40) - 20) // cols - 16
        px0 = 380 if k["form"] and form_left else 20
        for i, prod in enumerate(rng.sample(PRODUCTS, k["products"])):
            r, c = divmod(i, cols)
            cx, cy = px0 + c * (cw + 16), y + r * 200
            d.rectangle([cx, cy, cx + cw, cy + 184], fill=(255, 255, 255), outline=(200, 200, 200), width=2)
            d.rectangle([cx + 10, cy + 10, cx + cw - 10, cy + 80], fill=tuple(rng.randint(150, 230) for _ in range(3)))
            d.text((cx + 10, cy + 96), prod, fill=(30, 30, 30), font=font(fs))
            d.text((cx + 10, cy + 120), f"${rng.randint(5, 199)}.{rng.choice(['00', '49', '99'])}", fill=(90, 90, 90),
                   font=font(fs - 2))
            bb = [cx + 10, cy + 144, cx + cw - 10, cy + 174]
            d.rectangle(bb, fill=accent)
            d.text(((bb[0] + bb[2]) / 2, (bb[1] + bb[3]) / 2), "Add to cart", fill=(255, 255, 255), font=font(fs - 2),
                   anchor="mm")
            els.append(UIElement("button", f"Add to cart: {prod}", bb, f"the 'Add to cart' button of the {prod}"))
    d.line([(0, h - 44), (w, h - 44)], fill=(200, 200, 200))
    fx = rng.randint(16, w // 3)
    for name in ["Privacy", "Terms", "Help"]:
        tw = int(d.textlength(name, font=font(fs - 2)))
        d.text((fx, h - 22), name, fill=(90, 90, 90), font=font(fs - 2), anchor="lm")
        els.append(UIElement("link", name, [fx - 3, h - 32, fx + tw + 3, h - 12], f"the '{name}' link in the footer"))
        fx += tw + 28
    return img, els


def _goal(rng: random.Random, el: UIElement, page_lang: list[str]) -> tuple[str, str, str]:
    """(task description, ACTION, VALUE) for acting on ``el``."""
    if el.kind == "input" and el.label == "Search":
        qy = rng.choice(QUERIES)
        return f"Search the site for '{qy}'.", "TYPE", qy
    if el.kind == "input" and el.label == "Email":
        mail = f"{rng.choice(NAMES)}{rng.randint(1, 99)}@example.com"
        return f"Start signing in with the email address {mail}.", "TYPE", mail
    if el.kind == "input":
        pw = f"{rng.choice(NAMES).capitalize()}#{rng.randint(100, 999)}"
        return f"Fill in the password {pw} in the sign-in form.", "TYPE", pw
    if el.kind == "select":
        lang = rng.choice([x for x in LANGUAGES if x not in page_lang])
        return f"Switch the page language to {lang}.", "SELECT", lang
    if el.kind == "checkbox":
        return "Make the site remember the login on this device.", "CLICK", "None"
    if el.label.startswith("Add to cart: "):
        return f"Put the {el.label.removeprefix('Add to cart: ')} in the shopping cart.", "CLICK", "None"
    if el.kind == "link":
        return f"Open the {el.label} page.", "CLICK", "None"
    return f"Press the {el.label} button.", "CLICK", "None"


@register_generator("web_action", "spatial_action", ["web_action"], difficulty="mixed", levels=UI_LEVELS)
def web_action(rng: random.Random, params: dict[str, Any]) -> RawSample:
    """A web page with numbered marks on its elements and a task; answer the next action as ACTION/MARK/VALUE JSON."""
    level = pick_level(rng, params)
    k = knobs(level, UI_LEVELS, params)
    img, els = render_page(rng, k)
    marks = rng.sample(range(1, len(els) + 1), len(els))
    d = ImageDraw.Draw(img)
    for el, m in zip(els, marks, strict=True):
        tw = int(d.textlength(str(m), font=font(12))) + 6
        x, y = el.bbox[2] - tw, el.bbox[1]  # top-right corner: field labels sit above the left edge
        d.rectangle([x, y - 14, x + tw, y], fill=(220, 20, 60))
        d.text((x + 3, y - 7), str(m), fill=(255, 255, 255), font=font(12), anchor="lm")
    candidates = [el for el in els if el.label not in ("Search",) or el.kind == "input"]
    target = rng.choice(candidates)
    task, action, value = _goal(rng, target, [])
    answer = {"ACTION": action, "MARK": marks[els.index(target)], "VALUE": value}
    q = (f"This is a screenshot of a web page; each interactive element has a red numbered mark. Task: {task} "
         "What is the next action? Answer with a JSON object with keys ACTION (CLICK, TYPE or SELECT), MARK "
         "(the element's number) and VALUE (the text to type or the option to select, otherwise \"None\").")
    return RawSample(question=q, images=[img], answer=answer, reward_type="web_action",
                     extra_info={"difficulty": level, "target": target.description, "n_elements": len(els)})


@register_generator("ui_click", "grounding_counting_search", ["clicking"], difficulty="mixed", levels=UI_LEVELS)
def ui_click(rng: random.Random, params: dict[str, Any]) -> RawSample:
    """A web page screenshot; click a described element (gold: its box; a response gives a point inside it)."""
    level = pick_level(rng, params)
    k = knobs(level, UI_LEVELS, params)
    img, els = render_page(rng, k)
    target = rng.choice(els)
    answer = [{"bbox_2d": target.bbox, "label": target.description}]
    q = (f"Click on {target.description}. Answer with a JSON list holding one point in pixel coordinates, "
         'e.g. [{"point_2d": [x, y]}].')
    return RawSample(question=q, images=[img], answer=answer, reward_type="clicking",
                     extra_info={"difficulty": level, "image_sizes": [[img.width, img.height]], "n_elements": len(els)})
