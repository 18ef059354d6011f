"""R-pdf-3 and R-pdf-4: names and addresses in every script print as themselves and come back
from the PDF's text layer exactly; the seller beside the buyer; PDF metadata."""

from __future__ import annotations

import copy
import io
import re
from decimal import Decimal

import pytest
from pypdf import PdfReader
from test_pdf import INVOICE, charge_line, invoice_doc, statement_record

from cxbill.adapters import fonts
from cxbill.adapters.pdf import LANGUAGE, REMITTANCE, render_invoice_pdf
from cxbill.adapters.people import format_money, format_rate
from cxbill.domain.books import InvoiceDocument
from cxbill.domain.issuer import Issuer
from cxbill.domain.money import CURRENCIES

SELLER = Issuer(
    legal_name="Cloud CX Billing Inc.",
    address=("500 Harbor Boulevard, Suite 900", "Boston, MA 02110", "United States"),
    tax_id="EIN 12-3456789",
    email="billing@cxbill.example",
    remittance=("ACH/EFT: First Demo Bank, routing 021000021, account 000123456789",),
)

# (script, org name, address lines): what R-pdf-4 names, and Latin with accents.
PEOPLE = [
    (
        "Japanese",
        "株式会社さくら",
        ("〒100-0005 東京都千代田区丸の内1-1-1", "丸の内ビルディング 12階"),
    ),
    ("Simplified Chinese", "华夏科技有限公司", ("北京市朝阳区建国路88号", "现代城SOHO B座 1205室")),
    ("Korean", "주식회사 한빛소프트", ("서울특별시 강남구 테헤란로 152", "강남파이낸스센터 21층")),
    ("Russian", "ООО «Ромашка»", ("ул. Тверская, д. 7, офис 12", "Москва, 125009, Россия")),
    ("Greek", "Ελληνική Τεχνολογία Α.Ε.", ("Οδός Ερμού 12", "Αθήνα 105 63, Ελλάδα")),
    (
        "Portuguese",
        "Soluções Conceição Lda",
        ("Rua da Conceição 45, 2.º andar", "1100-152 São João"),
    ),
    ("German", "Müller & Söhne GmbH", ("Große Straße 5", "80331 München, Deutschland")),
    ("Danish", "Øresund Façade ApS", ("Åboulevard 7", "1635 København V")),
]


def lines_of(pdf: bytes) -> list[str]:
    """Every line of every page's text layer."""
    return [
        line
        for page in PdfReader(io.BytesIO(pdf)).pages
        for line in page.extract_text().splitlines()
    ]


def scripts_doc(name: str, address: tuple[str, ...], **overrides) -> InvoiceDocument:
    return invoice_doc(org_name=name, billing_address=address, issuer=SELLER, **overrides)


@pytest.mark.parametrize(("script", "name", "address"), PEOPLE, ids=[p[0] for p in PEOPLE])
def test_r_pdf_4_names_and_addresses_round_trip_through_the_text_layer(script, name, address):
    lines = lines_of(render_invoice_pdf(scripts_doc(name, address)))
    assert name in lines, (script, lines[:20])
    for line in address:
        assert line in lines, (script, line, lines[:20])
    assert not any("\u25a0" in line for line in lines)  # no boxes


def test_r_pdf_4_a_japanese_name_with_a_portuguese_address_and_the_seller_block():
    address = ("Rua Augusta 123, 3.º Esq.", "1100-048 Lisboa", "Portugal")
    doc = scripts_doc("株式会社さくら", address)
    lines = lines_of(render_invoice_pdf(doc))
    for expected in ("株式会社さくら", *address, "FROM", SELLER.legal_name, *SELLER.address):
        assert expected in lines, expected
    assert f"Tax ID: {SELLER.tax_id}" in lines
    assert SELLER.email in lines


def test_r_pdf_4_the_seller_may_write_in_any_script_too():
    seller = Issuer(
        "クラウドCXビリング株式会社",
        ("〒100-0005 東京都千代田区丸の内1-1-1",),
        "T1234567890123",
        "billing-jp@cxbill.example",
        ("振込先: デモ銀行 丸の内支店 普通 1234567",),
    )
    lines = lines_of(render_invoice_pdf(invoice_doc(issuer=seller)))
    for expected in (seller.legal_name, *seller.address, *seller.remittance):
        assert expected in lines, expected


def test_r_pdf_4_mixed_scripts_on_one_line_come_back_whole():
    name = "Acme 株式会社 — ООО Ромашка — Αθήνα — 한빛 — 华夏"
    lines = lines_of(render_invoice_pdf(scripts_doc(name, ("Straße 5, São Paulo",))))
    assert name in lines


def test_r_pdf_4_user_text_in_the_lines_renders_in_its_script():
    record = copy.deepcopy(INVOICE)
    record["lines"][0]["description"] = "導入支援サービス (Москва) – Förderung"
    record["taxes"][0]["name"] = "Налог на добавленную стоимость"
    text = "\n".join(lines_of(render_invoice_pdf(invoice_doc(record))))
    assert "導入支援サービス (Москва) – Förderung" in text
    assert "Налог на добавленную стоимость" in text


def test_r_pdf_4_a_long_line_shrinks_to_stay_one_line():
    address = ("東京都千代田区丸の内一丁目一番一号 丸の内センタービルディング 十二階 受付",)
    lines = lines_of(render_invoice_pdf(scripts_doc("株式会社さくら", address)))
    assert address[0] in lines


def test_r_pdf_4_latin_text_keeps_helvetica_and_other_scripts_get_their_fonts():
    latin = fonts.runs("Müller & Söhne – São João, Øresund")
    assert latin == [(fonts.LATIN, "Müller & Söhne – São João, Øresund")]
    runs = fonts.runs("Acme 株式会社 ООО", han=fonts.JAPANESE)
    assert runs == [(fonts.LATIN, "Acme "), (fonts.JAPANESE, "株式会社 "), (fonts.OTHER, "ООО")]
    assert fonts.runs("서울", bold=True) == [(fonts.KOREAN, "서울")]
    assert fonts.runs("Αθήνα", bold=True) == [(fonts.OTHER_BOLD, "Αθήνα")]


def test_r_pdf_4_han_alone_follows_the_document():
    assert fonts.cjk_font(["北京市"]) == fonts.CHINESE
    assert fonts.cjk_font(["東京都", "さくら"]) == fonts.JAPANESE
    assert fonts.cjk_font(["東京都"], currency="JPY") == fonts.JAPANESE
    assert fonts.cjk_font(["漢字", "한빛"]) == fonts.CHINESE
    # a line with kana or Hangul sets its own Han font
    assert fonts.runs("東京都 さくら", han=fonts.CHINESE) == [(fonts.JAPANESE, "東京都 さくら")]
    assert fonts.runs("서울 江南區", han=fonts.CHINESE) == [(fonts.KOREAN, "서울 江南區")]


def test_r_pdf_4_no_han_character_goes_to_a_font_whose_set_lacks_it():
    """Korean CID fonts hold only KS X 1001's hanja: simplified Chinese goes elsewhere."""
    runs = fonts.runs("주식회사 北京市朝阳区", han=fonts.CHINESE)
    assert runs == [(fonts.KOREAN, "주식회사 北京市朝"), (fonts.CHINESE, "阳区")]
    for font, run in fonts.runs("北京市朝阳区 東京都千代田区 서울 江南區", han=fonts.JAPANESE):
        codec = {fonts.CHINESE: "gbk", fonts.JAPANESE: "shift_jis", fonts.KOREAN: "euc_kr"}
        run.encode(codec[font])


def pdf_fonts(pdf: bytes) -> set[str]:
    names = set()
    for page in PdfReader(io.BytesIO(pdf)).pages:
        for font in page["/Resources"]["/Font"].values():
            names.add(str(font.get_object()["/BaseFont"]))
    return names


def test_r_pdf_4_fonts_are_embedded_subsets_or_cid_fonts_and_latin_stays_helvetica():
    latin = pdf_fonts(render_invoice_pdf(invoice_doc(issuer=SELLER)))
    assert latin <= {"/Helvetica", "/Helvetica-Bold"}
    mixed = pdf_fonts(render_invoice_pdf(scripts_doc("株式会社さくら", ("Москва",))))
    assert "/HeiseiKakuGo-W5" in mixed
    assert any(re.fullmatch(r"/[A-Z]{6}\+DejaVuSans", f) for f in mixed), mixed  # a subset


def test_r_pdf_4_metadata_names_title_seller_subject_and_language():
    pdf = render_invoice_pdf(scripts_doc("株式会社さくら", ("東京都",)))
    reader = PdfReader(io.BytesIO(pdf))
    assert reader.metadata.title == "Invoice NORTHWIND-000002"
    assert reader.metadata.author == SELLER.legal_name
    assert reader.metadata.subject.startswith("Invoice NORTHWIND-000002 for 株式会社さくら")
    assert reader.trailer["/Root"]["/Lang"] == LANGUAGE


def test_r_pdf_3_no_issuer_means_no_seller_block():
    lines = lines_of(render_invoice_pdf(invoice_doc()))
    assert "FROM" not in lines
    assert "BILL TO" in lines
    assert PdfReader(io.BytesIO(render_invoice_pdf(invoice_doc()))).metadata.author in (None, "")


def test_r_pdf_3_seller_and_buyer_sit_side_by_side():
    pdf = render_invoice_pdf(invoice_doc(issuer=SELLER))
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    where: dict[str, tuple[float, float]] = {}

    def visit(text, cm, tm, _font, _size):
        if text.strip() in ("FROM", "BILL TO"):
            where[text.strip()] = (cm[4] + tm[4], cm[5] + tm[5])

    page.extract_text(visitor_text=visit)
    (from_x, from_y), (to_x, to_y) = where["FROM"], where["BILL TO"]
    assert from_y == to_y and from_x < to_x


def test_r_pdf_3_the_remittance_block_has_the_sellers_details():
    lines = lines_of(render_invoice_pdf(invoice_doc(issuer=SELLER)))
    assert REMITTANCE in lines
    assert SELLER.remittance[0] in lines
    assert "Reference: NORTHWIND-000002" in lines


def test_r_partner_1_a_statement_shows_the_seller_but_asks_for_no_payment():
    doc = invoice_doc(statement_record(), partner="Acme Partners", issuer=SELLER)
    text = "\n".join(lines_of(render_invoice_pdf(doc)))
    assert SELLER.legal_name in text
    assert "REMITTANCE" not in text and SELLER.remittance[0] not in text


def test_the_buyer_block_never_repeats_the_name_or_a_line():
    doc = invoice_doc(
        org_name="Acme Corp",
        billing_address=("Acme Corp", "1 Harbour Road", "1 Harbour Road", "Demo City"),
        issuer=SELLER,
    )
    lines = lines_of(render_invoice_pdf(doc))
    assert lines.count("Acme Corp") == 1
    assert lines.count("1 Harbour Road") == 1
    assert "Demo City" in lines


def test_r_pdf_1_multi_page_invoice_in_scripts_keeps_every_amount():
    record = copy.deepcopy(INVOICE)
    record["lines"] = [charge_line(n) for n in range(1, 61)]
    doc = invoice_doc(
        record,
        org_name="株式会社さくら",
        billing_address=("Rua Augusta 123", "1100-048 Lisboa"),
        issuer=SELLER,
    )
    pdf = render_invoice_pdf(doc)
    pages = PdfReader(io.BytesIO(pdf)).pages
    assert len(pages) > 1
    text = "\n".join(page.extract_text() for page in pages)
    for line in record["lines"]:
        assert format_money(Decimal(line["amount"]), "USD") in text
    assert format_rate(Decimal("10.00"), "USD") in text


@pytest.mark.parametrize("currency", sorted(CURRENCIES))
def test_r_pdf_4_every_accepted_currencys_amounts_print_in_the_latin_font(currency):
    """Amounts are drawn in Helvetica; a currency whose symbol it lacks needs a font here."""
    assert fonts.is_latin(format_money(Decimal("-1234.5"), currency))
    assert fonts.is_latin(format_rate(Decimal("0.0125"), currency))
