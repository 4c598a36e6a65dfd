"""The demo page: the fields of a `Playground` laid out with Gradio, and what it draws shown as the files
it wrote.

Imported only once Gradio may be (`gan-lightning demo`, a Space's app.py: `commands.demo.serve`), after
its temporary folder and settings are set. The grid is shown as the PNG file `generate`'s writer made,
served as it is (Gradio would re-encode an array or a PIL image, as WebP by default), so the page
shows `generate`'s pixels. A bad value is answered in the message box, one line, and the images already
shown stay; the server goes on serving.
"""

from __future__ import annotations

from collections.abc import Callable

import gradio as gr

from gan_lightning.sharing.playground import MAX_FRAMES, Playground

DELETE_CACHE = (3600, 3600)  # Gradio's copies of the files shown: checked hourly, dropped after an hour
# The grids are small (30 px a digit): the browser shows them as wide as their box, as squares of
# pixels rather than blurred, below their label (the file is unchanged; without this, they show at their own
# size, under the label).
CSS = """
#grid .image-container, #frame .image-container, #gif .image-container { padding: 2.5rem 0.5rem 0.5rem; }
#grid .image-frame, #frame .image-frame, #gif .image-frame { width: 100%; }
#grid img, #frame img, #gif img {
  width: 100%; height: auto; max-height: 640px; object-fit: contain; image-rendering: pixelated;
}
"""


def build_page(playground: Playground, name: str) -> gr.Blocks:
    """The page for one model, `name` as its title says."""
    p = playground
    kind = "conditional" if p.conditional else ("self-conditioned" if p.clustered else "unconditional")
    with gr.Blocks(title=f"gan_lightning: {name}", analytics_enabled=False, delete_cache=DELETE_CACHE) as page:
        gr.Markdown(
            f"# gan_lightning playground: {name}\n"
            f"A {kind} generator of MNIST digits. The grid is what `gan-lightning generate` draws for the "
            "same settings, pixel for pixel (the message names the command)."
        )
        with gr.Row():
            with gr.Column(scale=1, min_width=300):
                if p.conditional:
                    digits = gr.Textbox(label="digits", placeholder="e.g. 3 7 (empty: all ten)", elem_id="digits")
                else:
                    digits = gr.State(None)
                if p.clustered:
                    cluster = gr.Number(label=f"cluster (0..{p.clusters - 1}; empty: all)", elem_id="cluster")
                else:
                    cluster = gr.State(None)
                how_many = gr.Number(
                    value=p.default_count,
                    label=f"how many{' of each digit' if p.conditional else ''} (1..{p.max_count})",
                    elem_id="how_many",
                )
                seed = gr.Number(value=0, label="seed", elem_id="seed")
                truncation = gr.Slider(
                    0.05, 1.0, value=1.0, step=0.05, label="truncation (1: off; lower: more typical)", elem_id="trunc"
                )
                draw = gr.Button("Draw", variant="primary", elem_id="draw")
                status = gr.Textbox(label="message", interactive=False, lines=2, elem_id="status")
                with gr.Row():
                    png = gr.DownloadButton("PNG", elem_id="png")
                    npz = gr.DownloadButton("NPZ", elem_id="npz")
            with gr.Column(scale=2):
                grid = _image("samples", "grid")
        gr.Markdown("## Latent walk\nEach image walks from its noise for **seed** to its noise for **walk to seed**.")
        with gr.Row():
            with gr.Column(scale=1, min_width=300):
                to_seed = gr.Number(value=1, label="walk to seed", elem_id="to_seed")
                frames = gr.Number(value=16, label=f"frames (2..{MAX_FRAMES})", elem_id="frames")
                walk = gr.Button("Walk", elem_id="walk")
                position = gr.Slider(
                    0.0, 1.0, value=0.5, step=0.01, label="position (0: seed, 1: walk to seed)", elem_id="position"
                )
            with gr.Column(scale=1):
                frame = _image("position on the walk", "frame")
            with gr.Column(scale=1):
                gif = _image("walk (GIF)", "gif")

        fields = [digits, how_many, seed, truncation, cluster]
        show_drawing = _answer(p.draw, (0, 0, 1))  # the PNG shown and offered, the NPZ offered
        draw.click(show_drawing, fields, [grid, png, npz, status], api_name="draw")
        page.load(show_drawing, fields, [grid, png, npz, status], api_name=False)  # the default grid at once
        walk.click(_answer(p.walk, (0, 1)), [*fields, to_seed, frames, position], [gif, frame, status], api_name="walk")
        position.release(_answer(p.walk_at, (0,)), [*fields, to_seed, position], [frame, status], api_name="at")
    return page


def _image(label: str, elem_id: str) -> gr.Image:
    # type="filepath": the function's file is sent as it is; format="png" for anything Gradio would encode.
    return gr.Image(
        label=label, type="filepath", format="png", interactive=False, buttons=["download"], elem_id=elem_id
    )


def _answer(work: Callable, slots: tuple[int, ...]) -> Callable:
    """A page event for `work`: its files into the outputs (`slots`: which file each output shows) and its
    line into the message box; for a bad value, the one-line message, the outputs left as they were."""

    def answer(*values):
        try:
            done = work(*values)
        except ValueError as err:  # PageError and generate's own checks: one line naming the field
            return *(gr.skip() for _ in slots), f"error: {str(err).splitlines()[0]}"
        return *(str(done.files[i]) for i in slots), done.text

    return answer
