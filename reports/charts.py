"""Static charts for what leaves the app as a file: a press release's picture for a social-network
post (1080 px wide, type large enough for a phone). Matplotlib draws them without a browser; its
bundled DejaVu Sans has Cyrillic."""
from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")  # no display: files only
import matplotlib.pyplot as plt  # noqa: E402

from queries import periods  # noqa: E402
from queries.localtime import local_date  # noqa: E402
from queries.region import REGION  # noqa: E402
from reports.press import CHANNEL_EN, CHANNEL_RU, MONITORED, Release  # noqa: E402
from reports.typography import quote_number  # noqa: E402

WIDTH_PX, DPI = 1080, 120
BLUE, GREY = "#1f5fa8", "#8a97a8"


def press_chart(release: Release, lang: str = "ru") -> bytes:
    """Two bar panels, channels and the leading categories, with the counts written on the bars."""
    ru = lang == "ru"
    names = CHANNEL_RU if ru else CHANNEL_EN
    pos_name = "Госуслуги" if ru else "Gosuslugi"
    # the channels the first number counts, as the text says it (the rest in the footnote)
    channels = [(pos_name if k == "pos" else names.get(k, k).strip("«»"), int(v))
                for k, v in release.channels.items() if k in MONITORED][:6] if release.channels is not None else []
    cats = [((r.name_ru if ru else r.name_en), int(r.received)) for r in release.categories.head(5).itertuples()]
    fig, axes = plt.subplots(2, 1, figsize=(WIDTH_PX / DPI, WIDTH_PX / DPI), dpi=DPI,
                             gridspec_kw={"height_ratios": [max(len(channels), 1), max(len(cats), 1)]})
    title = (f"Обращения жителей {REGION.name_genitive_ru}" if ru else f"Citizens' appeals, {REGION.name_en}")
    when = periods.in_words(release.d_from, release.d_to, lang)
    fig.suptitle(f"{title}\n{when}: {quote_number(release.figures['monitored'], lang)}", fontsize=20,
                 fontweight="bold", x=0.04, y=0.97, ha="left")
    for ax, rows, color, heading in ((axes[0], channels, BLUE, "Каналы" if ru else "Channels"),
                                     (axes[1], cats, GREY, "Темы" if ru else "Topics")):
        labels = [r[0] for r in rows][::-1]
        values = [r[1] for r in rows][::-1]
        bars = ax.barh(labels, values, color=color)
        top = max(values) if values else 1
        for bar, v in zip(bars, values):
            ax.text(bar.get_width() + top * 0.01, bar.get_y() + bar.get_height() / 2, quote_number(v, lang),
                    va="center", fontsize=16)
        ax.set_title(heading, loc="left", fontsize=17, fontweight="bold")
        ax.set_xlim(0, top * 1.25)
        ax.tick_params(axis="y", labelsize=16)
        ax.set_xticks([])
        for side in ("top", "right", "bottom"):
            ax.spines[side].set_visible(False)
    source = ("Источник: ЦУР, данные на " if ru else "Source: the centre, data as of ") + \
        local_date(release.as_of).strftime("%d.%m.%Y" if ru else "%Y-%m-%d")
    rest = release.figures["received"] - release.figures["monitored"]
    if rest > 0:
        source += (f"; ещё {quote_number(rest, lang)} — сайт и другие каналы" if ru else
                   f"; another {quote_number(rest, lang)} through the website and other channels")
    fig.text(0.04, 0.01, source, fontsize=12, color="#555555")
    fig.tight_layout(rect=(0, 0.03, 1, 0.88))
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=DPI)
    plt.close(fig)
    return out.getvalue()
