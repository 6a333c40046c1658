"""The static site in headless Chromium: the index loads, a filter narrows rows, a method page shows its diagram.

Needs the system Chromium (apt-get install chromium) and the playwright package;
playwright's own browser download is never used.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from peftref_kb.render.site import build_site

CHROMIUM = Path("/usr/bin/chromium")

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="no /usr/bin/chromium (apt-get install -y chromium)")


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def site(tmp_path_factory, fixture_catalogue):
    directory = tmp_path_factory.mktemp("site")
    build_site(fixture_catalogue, directory)
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


def test_index_filters_and_method_page_shows_diagram(browser, site):
    page = browser.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto((site / "index.html").as_uri())
    rows = page.locator("#methods tbody tr")
    total = rows.count()
    assert total == len(list((site / "methods").glob("*.html")))
    assert page.locator("#methods tbody tr:visible").count() == total

    page.select_option('select[data-field="peft_ref.insertion_form"]', "parallel")
    visible = page.locator("#methods tbody tr:visible")
    kept = visible.count()
    assert 0 < kept < total
    for i in range(kept):
        assert "peft_ref.insertion_form=parallel" in visible.nth(i).get_attribute("data-facets").split()
    assert page.locator("#shown").inner_text().startswith(f"{kept} of {total}")

    page.click("#reset")
    assert page.locator("#methods tbody tr:visible").count() == total

    page.click('a[href="methods/lora.html"]')
    page.wait_for_load_state()
    svg = page.locator("#diagram svg")
    assert svg.count() == 1 and svg.is_visible()
    box = svg.bounding_box()
    assert box["width"] > 300 and box["height"] > 300
    assert "LoRA in the PEFT-Ref reference Transformer layer" in svg.text_content()
    assert not errors, errors
    page.close()


# --------------------------------------------------------------------------- the bundled catalogue's site

AXE = Path(__file__).resolve().parent.parent / "data" / "axe" / "axe.min.js"
# Filter states and the structured `peftref query` each means (conditions within one component).
FILTER_STATES = [
    ({"peft_ref.insertion_form": "parallel", "positions": "ffn"}, "peft_ref.insertion_form=parallel and positions=ffn"),
    ({"positions": "attn"}, "positions=attn"),
    ({"positions": "attn.v", "unified_view.composition": "scaled-addition"}, "positions=attn.v and unified_view.composition=scaled-addition"),
    ({"peft_ref.workspace": "ffn", "peft_ref.insertion_form": "sequential"}, "peft_ref.workspace=ffn and peft_ref.insertion_form=sequential"),
    ({"taxonomy.classes": "reparametrization", "positions": "ffn.out"}, "taxonomy.classes=reparametrization and positions=ffn.out"),
    ({"efficiency.inference_overhead": "none", "peft_ref.insertion_form": "prepended"}, "efficiency.inference_overhead=none and peft_ref.insertion_form=prepended"),
]


@pytest.fixture(scope="module")
def full_site(tmp_path_factory, catalogue):
    directory = tmp_path_factory.mktemp("full-site")
    build_site(catalogue, directory)
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


def _visible_ids(page) -> set[str]:
    return set(page.eval_on_selector_all("#methods tbody tr:not([hidden])", "rows => rows.map(r => r.dataset.id)"))


@pytest.mark.parametrize("state,query", FILTER_STATES, ids=[q for _, q in FILTER_STATES])
def test_site_filters_agree_with_the_cli_query(browser, full_site, catalogue, state, query):
    expected = {hit.id for hit in catalogue.query(query).hits}
    page = browser.new_page()
    page.goto((full_site / "index.html").as_uri())
    for field, value in state.items():
        select = page.locator(f'select[data-field="{field}"]')
        assert select.locator(f'option[value="{value}"]').count() == 1, f"no option {value} for {field}"
        if not select.is_visible():
            page.click("#more-filters summary")
        select.select_option(value)
    assert _visible_ids(page) == expected
    assert page.locator("#shown").inner_text().startswith(f"{len(expected)} of ")
    page.close()


def test_sorting_by_column_and_state_in_the_url(browser, full_site):
    page = browser.new_page()
    page.goto((full_site / "index.html").as_uri())
    page.click('button.sort[data-key="year"]')
    years = page.eval_on_selector_all("#methods tbody tr", "rows => rows.map(r => Number(r.cells[2].textContent))")
    assert years == sorted(years) and years[0] < years[-1]
    assert page.locator('th:has(button[data-key="year"])').get_attribute("aria-sort") == "ascending"
    page.click('button.sort[data-key="year"]')
    years = page.eval_on_selector_all("#methods tbody tr", "rows => rows.map(r => Number(r.cells[2].textContent))")
    assert years == sorted(years, reverse=True)
    page.select_option('select[data-field="peft_ref.insertion_form"]', "parallel")
    page.fill("#search", "lo")
    url = page.evaluate("location.href")  # page.url follows history.replaceState only asynchronously
    assert "sort=year:descending" in url and "f.peft_ref.insertion_form=parallel" in url and "q=lo" in url
    kept = _visible_ids(page)
    # Reopening the URL restores the filters, the search and the order.
    again = browser.new_page()
    again.goto(url)
    assert again.locator('select[data-field="peft_ref.insertion_form"]').input_value() == "parallel"
    assert again.locator("#search").input_value() == "lo"
    assert _visible_ids(again) == kept
    restored = again.eval_on_selector_all("#methods tbody tr", "rows => rows.map(r => Number(r.cells[2].textContent))")
    assert restored == sorted(restored, reverse=True)
    again.close()
    page.close()


def test_sorting_and_compare_work_from_the_keyboard(browser, full_site):
    page = browser.new_page()
    page.goto((full_site / "index.html").as_uri())
    page.focus('button.sort[data-key="name"]')
    page.keyboard.press("Enter")
    names = page.eval_on_selector_all("#methods tbody tr", "rows => rows.map(r => r.cells[1].dataset.sort)")
    assert names == sorted(names)
    page.focus('#methods tr[data-id="lora"] input.pick')
    page.keyboard.press("Space")
    page.focus('#methods tr[data-id="ia3"] input.pick')
    page.keyboard.press("Space")
    assert page.locator("#compare-body").is_visible()
    page.close()


def test_compare_view_shows_two_to_four_methods_side_by_side(browser, full_site):
    page = browser.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto((full_site / "index.html").as_uri() + "#compare=lora,ia3,prefix-tuning")
    assert page.locator("#compare-body").is_visible()
    heads = page.locator("#compare-table thead th").all_inner_texts()
    assert heads == ["Property", "LoRA", "(IA)³", "Prefix-Tuning"]
    insertion = page.locator("#compare-table tbody tr", has_text="Insertion form").locator("td").all_inner_texts()
    assert insertion[0] == "Parallel" and insertion[2] == "Prepended"
    frames = page.locator("#compare-diagrams iframe")
    assert frames.count() == 3
    lora = page.frame_locator("#compare-diagrams iframe >> nth=0").locator("#diagram svg")
    assert "LoRA in the PEFT-Ref" in lora.text_content()
    # A fifth pick is refused once four are chosen.
    for method_id in ("bitfit",):
        page.check(f'#methods tr[data-id="{method_id}"] input.pick')
    assert page.locator("#methods input.pick:checked").count() == 4
    assert page.locator("#methods input.pick:disabled").count() == page.locator("#methods input.pick").count() - 4
    page.uncheck('#methods tr[data-id="ia3"] input.pick')
    assert page.evaluate("location.hash") == "#compare=lora,prefix-tuning,bitfit"
    assert page.locator("#compare-table thead th").count() == 4
    page.uncheck('#methods tr[data-id="lora"] input.pick')
    page.uncheck('#methods tr[data-id="prefix-tuning"] input.pick')
    assert not page.locator("#compare-body").is_visible()
    assert not errors, errors
    page.close()


@pytest.mark.parametrize("page_path", ["index.html#compare=lora,ia3", "methods/lora.html"])
def test_no_serious_accessibility_violations(browser, full_site, page_path):
    page = browser.new_page()
    page.goto((full_site / page_path.split("#")[0]).as_uri() + ("#" + page_path.split("#")[1] if "#" in page_path else ""))
    page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    serious = [(v["id"], v["impact"], [n["html"][:120] for n in v["nodes"]][:3]) for v in result["violations"] if v["impact"] in ("serious", "critical")]
    assert not serious, serious
    page.close()
