"""The notification templates as shipped: they load, every milestone renders on each of its
channels in proper Vietnamese, values are exactly the declared ones, bad files are refused,
and citizens' SMS stay short."""

from __future__ import annotations

import tomllib
import unicodedata
from pathlib import Path

import pytest

from services.notification.templates import DEFAULT_PATH, Channel, Templates, load, sms_segments

TEMPLATES: Templates = load()
CODE = "H40.101-261203-0001"
TRACK = f"https://dichvucong.example.gov.vn/track/{CODE}"
WORKSPACE = "https://motcua.example.gov.vn/queue"

# Realistic values for each milestone, and what each channel must then say.
VALUES: dict[str, dict[str, str | list[str]]] = {
    "received": {
        "name": "Nguyễn Thị Hồng Nhung",
        "dossier_code": CODE,
        "procedure_name": "Đăng ký khai sinh",
        "received_date": "03/12/2026",
        "due_date": "08/12/2026",
        "tracking_url": TRACK,
    },
    "payment_requested": {
        "name": "Nguyễn Thị Hồng Nhung",
        "dossier_code": CODE,
        "amount": "1.250.000",
        "deadline": "05/12/2026 17:00",
        "pay_url": "https://thanhtoan.example.gov.vn/pay/9f8e7d6c5b4a",
    },
    "payment_expired": {"name": "Nguyễn Thị Hồng Nhung", "dossier_code": CODE, "amount": "24.000"},
    "payment_refunded": {
        "name": "Nguyễn Thị Hồng Nhung",
        "dossier_code": CODE,
        "amount": "1.250.000",
        "reason": "hồ sơ đã được rút",
    },
    "supplement_requested": {
        "name": "Nguyễn Thị Hồng Nhung",
        "dossier_code": CODE,
        "documents": ["Bản sao Giấy chứng nhận kết hôn", "Giấy chứng sinh"],
        "reason": "Thiếu bản sao Giấy chứng nhận kết hôn",
        "tracking_url": TRACK,
    },
    "refused": {
        "name": "Trần Văn Đức",
        "dossier_code": CODE,
        "reason": "Thửa đất đang có tranh chấp, chưa đủ điều kiện cấp Giấy chứng nhận",
    },
    "apologised": {
        "name": "Lê Thị Ánh Tuyết",
        "dossier_code": CODE,
        "reason": "Cần xác minh thêm nguồn gốc sử dụng đất",
        "new_due_date": "15/12/2026",
    },
    "result_ready": {
        "name": "Nguyễn Thị Hồng Nhung",
        "dossier_code": CODE,
        "result_code": f"{CODE}-KQ1",
        "how_to_collect": "Ông/Bà nhận bản giấy tại Bộ phận Một cửa xã An Hiệp.",
        "download_url": f"https://kyso.example.gov.vn/results/{CODE}-KQ1",
    },
    "withdrawn": {"name": "Phạm Quốc Việt", "dossier_code": CODE},
    "withdrawal_declined": {
        "name": "Phạm Quốc Việt",
        "dossier_code": CODE,
        "reason": "Hồ sơ đã được giải quyết xong",
    },
    "survey": {
        "name": "Nguyễn Thị Hồng Nhung",
        "dossier_code": CODE,
        "survey_url": "https://thongbao.example.gov.vn/survey/5c1d2e3f4a5b",
    },
    "complaint_received": {
        "name": "Hoàng Thị Yến",
        "dossier_code": CODE,
        "complaint_code": "PAKN-261205-0003",
        "answer_by": "19/12/2026",
    },
    "complaint_answered": {
        "name": "Hoàng Thị Yến",
        "dossier_code": CODE,
        "complaint_code": "PAKN-261205-0003",
        "answer": "Hồ sơ của Ông/Bà đã được giải quyết xong ngày 10/12/2026, đúng hạn đã hẹn.",
    },
    "official_due_soon": {
        "name": "Võ Minh Khôi",
        "dossier_code": CODE,
        "procedure_name": "Đăng ký khai sinh",
        "due_date": "08/12/2026",
        "unit_name": "Ủy ban nhân dân xã An Hiệp",
        "workspace_url": WORKSPACE,
    },
    "official_digest": {
        "name": "Đặng Thị Thu Hà",
        "unit_name": "Ủy ban nhân dân xã An Hiệp",
        "day": "21/11/2026",
        "count": "2",
        "dossiers": [
            "H40.101-261120-0004 — Đăng ký khai sinh — hạn 20/11/2026",
            "H40.101-261118-0012 — Chứng thực bản sao từ bản chính — hạn 19/11/2026",
        ],
        "workspace_url": WORKSPACE,
    },
    "official_complaint": {
        "name": "Võ Minh Khôi",
        "dossier_code": CODE,
        "complaint_code": "PAKN-261205-0003",
        "kind": "Phản ánh",
        "text": "Tôi nộp hồ sơ đã quá hạn mà chưa nhận được kết quả.",
        "answer_by": "19/12/2026",
        "workspace_url": WORKSPACE,
    },
    "official_complaint_reminder": {
        "name": "Võ Minh Khôi",
        "dossier_code": CODE,
        "complaint_code": "PAKN-261205-0003",
        "answer_by": "19/12/2026",
        "workspace_url": WORKSPACE,
    },
}

VALUES["official_overdue"] = dict(VALUES["official_due_soon"])  # the same alert, a day later

# Exact substrings each channel's text must hold, diacritics included.
EXPECTED: dict[str, dict[Channel, list[str]]] = {
    "received": {
        "sms": [f"Hồ sơ {CODE} đã được tiếp nhận, hẹn trả kết quả ngày 08/12/2026", TRACK],
        "email": ["Kính gửi Ông/Bà Nguyễn Thị Hồng Nhung,", "Thủ tục hành chính: Đăng ký khai sinh", "03/12/2026"],
        "zns": [f"Hồ sơ {CODE} (Đăng ký khai sinh) đã được tiếp nhận ngày 03/12/2026", "08/12/2026"],
    },
    "payment_requested": {
        "sms": ["phí, lệ phí 1.250.000 đồng", "trước 05/12/2026 17:00", "Bộ phận Một cửa"],
        "email": ["phí, lệ phí phải nộp là 1.250.000 đồng", "thanh toán trực tuyến trước 05/12/2026 17:00"],
        "zns": ["1.250.000 đồng", "https://thanhtoan.example.gov.vn/pay/9f8e7d6c5b4a"],
    },
    "payment_expired": {
        "sms": ["đường dẫn thanh toán trực tuyến đã hết hạn", "nộp phí, lệ phí 24.000 đồng tại Bộ phận Một cửa"],
        "email": ["nộp phí, lệ phí 24.000 đồng trực tiếp tại Bộ phận Một cửa"],
        "zns": ["nộp 24.000 đồng tại Bộ phận Một cửa"],
    },
    "payment_refunded": {
        "sms": ["đã hoàn trả 1.250.000 đồng phí, lệ phí. Lý do: hồ sơ đã được rút"],
        "email": ["Lý do hoàn trả: hồ sơ đã được rút"],
        "zns": ["đã hoàn trả Ông/Bà 1.250.000 đồng phí, lệ phí"],
    },
    "supplement_requested": {
        "sms": [f"Hồ sơ {CODE} cần bổ sung, hoàn thiện: Bản sao Giấy chứng nhận kết hôn; Giấy chứng sinh."],
        "email": [
            "Lý do: Thiếu bản sao Giấy chứng nhận kết hôn",
            "giấy tờ sau:\n- Bản sao Giấy chứng nhận kết hôn\n- Giấy chứng sinh\n",
        ],
        "zns": ["bổ sung, hoàn thiện: Bản sao Giấy chứng nhận kết hôn; Giấy chứng sinh"],
    },
    "refused": {
        "sms": [f"Hồ sơ {CODE} bị từ chối giải quyết. Lý do: Thửa đất đang có tranh chấp"],
        "email": ["bị từ chối giải quyết", "phản ánh, kiến nghị", "Kính gửi Ông/Bà Trần Văn Đức,"],
        "zns": ["Lý do: Thửa đất đang có tranh chấp, chưa đủ điều kiện cấp Giấy chứng nhận"],
    },
    "apologised": {
        "sms": ["Thư xin lỗi", "hẹn lại ngày 15/12/2026", "Lý do: Cần xác minh thêm nguồn gốc sử dụng đất"],
        "email": ["thành thật xin lỗi", "Lý do: Cần xác minh thêm nguồn gốc sử dụng đất", "15/12/2026"],
        "zns": ["Thư xin lỗi", "Kính gửi Ông/Bà Lê Thị Ánh Tuyết,", "15/12/2026"],
    },
    "result_ready": {
        "sms": [f"Hồ sơ {CODE} đã có kết quả.", "nhận bản giấy tại Bộ phận Một cửa xã An Hiệp"],
        "email": [f"Mã kết quả: {CODE}-KQ1", "chữ ký số", f"https://kyso.example.gov.vn/results/{CODE}-KQ1"],
        "zns": [f"mã kết quả {CODE}-KQ1"],
    },
    "withdrawn": {
        "sms": [f"Hồ sơ {CODE} đã được rút theo yêu cầu của Ông/Bà"],
        "email": ["Kính gửi Ông/Bà Phạm Quốc Việt,", "dừng giải quyết"],
        "zns": ["dừng giải quyết"],
    },
    "withdrawal_declined": {
        "sms": [f"Yêu cầu rút hồ sơ {CODE} không được chấp nhận. Lý do: Hồ sơ đã được giải quyết xong"],
        "email": ["Lý do: Hồ sơ đã được giải quyết xong"],
        "zns": ["không được chấp nhận"],
    },
    "survey": {
        "sms": ["mức độ hài lòng (từ 1 đến 5)", "https://thongbao.example.gov.vn/survey/5c1d2e3f4a5b"],
        "email": ["từ 1 (rất không hài lòng) đến 5 (rất hài lòng)", "một lần"],
        "zns": ["Đánh giá tại: https://thongbao.example.gov.vn/survey/5c1d2e3f4a5b"],
    },
    "complaint_received": {
        "sms": ["Phản ánh, kiến nghị PAKN-261205-0003", "chậm nhất ngày 19/12/2026"],
        "email": ["Mã phản ánh, kiến nghị: PAKN-261205-0003", "Kính gửi Ông/Bà Hoàng Thị Yến,"],
        "zns": ["đã được tiếp nhận"],
    },
    "complaint_answered": {
        "sms": ["đã được trả lời: Hồ sơ của Ông/Bà đã được giải quyết xong ngày 10/12/2026"],
        "email": ["\n\nHồ sơ của Ông/Bà đã được giải quyết xong ngày 10/12/2026, đúng hạn đã hẹn.\n\n"],
        "zns": ["PAKN-261205-0003"],
    },
    "official_due_soon": {
        "sms": [f"Hồ sơ {CODE} sắp đến hạn giải quyết (08/12/2026)", WORKSPACE],
        "email": ["Kính gửi đồng chí Võ Minh Khôi,", "Ủy ban nhân dân xã An Hiệp", "Đăng ký khai sinh"],
    },
    "official_overdue": {
        "sms": [f"Hồ sơ {CODE} đã quá hạn giải quyết (hạn 08/12/2026)"],
        "email": ["Kính gửi đồng chí Võ Minh Khôi,", "Hồ sơ sau tại Ủy ban nhân dân xã An Hiệp đã quá hạn"],
    },
    "official_digest": {
        "sms": ["Ủy ban nhân dân xã An Hiệp có 2 hồ sơ quá hạn giải quyết tính đến ngày 21/11/2026"],
        "email": [
            "Kính gửi đồng chí Đặng Thị Thu Hà,",
            "\n- H40.101-261120-0004 — Đăng ký khai sinh — hạn 20/11/2026\n"
            "- H40.101-261118-0012 — Chứng thực bản sao từ bản chính — hạn 19/11/2026\n",
        ],
    },
    "official_complaint": {
        "sms": ["Phản ánh, kiến nghị mới PAKN-261205-0003", "hạn trả lời 19/12/2026"],
        "email": ["Loại: Phản ánh", "Nội dung:\nTôi nộp hồ sơ đã quá hạn mà chưa nhận được kết quả."],
    },
    "official_complaint_reminder": {
        "sms": ["Nhắc việc: phản ánh, kiến nghị PAKN-261205-0003", "chưa được trả lời"],
        "email": ["Kính gửi đồng chí Võ Minh Khôi,", "Hạn trả lời: 19/12/2026."],
    },
}
SIGNATURE = "Bộ phận Một cửa\nTrung tâm Phục vụ hành chính công"

CASES = [(milestone, channel) for milestone, channels in EXPECTED.items() for channel in channels]


def test_the_shipped_file_loads_with_every_milestone() -> None:
    assert set(TEMPLATES.milestones()) == set(VALUES) == set(EXPECTED)
    assert set(TEMPLATES.milestones("official")) == {m for m in VALUES if m.startswith("official_")}
    for milestone, values in VALUES.items():
        assert TEMPLATES[milestone].values == tuple(values), milestone


@pytest.mark.parametrize(("milestone", "channel"), CASES)
def test_each_milestone_renders_on_its_channels_in_vietnamese(milestone: str, channel: Channel) -> None:
    rendered = TEMPLATES.render(milestone, channel, VALUES[milestone])
    for expected in EXPECTED[milestone][channel]:
        assert expected in rendered.text, f"{milestone}/{channel}: {expected!r} not in\n{rendered.text}"
    assert "{" not in rendered.text and "}" not in rendered.text
    if channel == "email":
        assert rendered.subject and "\n" not in rendered.subject
        assert rendered.text.rstrip().endswith("vui lòng không trả lời thư này.")
        assert SIGNATURE in rendered.text
        greeting = "Kính gửi đồng chí" if milestone.startswith("official_") else "Kính gửi Ông/Bà"
        assert rendered.text.startswith(f"{greeting} {VALUES[milestone]['name']},\n\n")
    else:
        assert rendered.subject is None
    if channel == "zns":
        template = TEMPLATES[milestone]
        assert rendered.zns_template == template.zns_template
        assert rendered.zns_data is not None and list(rendered.zns_data) == list(template.zns_params or ())
    else:
        assert rendered.zns_template is None and rendered.zns_data is None


def test_official_messages_have_no_zns_and_citizen_ones_do() -> None:
    for milestone in TEMPLATES.milestones("official"):
        with pytest.raises(ValueError, match="no ZNS template"):
            TEMPLATES.render(milestone, "zns", VALUES[milestone])
    assert set(TEMPLATES.milestones("citizen")) == {m for m, c in EXPECTED.items() if "zns" in c}


def test_subjects_name_the_dossier() -> None:
    rendered = TEMPLATES.render("result_ready", "email", VALUES["result_ready"])
    assert rendered.subject == f"Hồ sơ {CODE} đã có kết quả"
    apology = TEMPLATES.render("apologised", "email", VALUES["apologised"])
    assert apology.subject == f"Thư xin lỗi và hẹn lại ngày trả kết quả hồ sơ {CODE}"


def test_a_list_renders_as_lines_in_email_and_joined_in_sms_and_zns() -> None:
    values = VALUES["supplement_requested"]
    email = TEMPLATES.render("supplement_requested", "email", values).text
    sms = TEMPLATES.render("supplement_requested", "sms", values).text
    zns = TEMPLATES.render("supplement_requested", "zns", values)
    assert "\n- Bản sao Giấy chứng nhận kết hôn\n- Giấy chứng sinh\n" in email
    assert "Bản sao Giấy chứng nhận kết hôn; Giấy chứng sinh" in sms
    assert zns.zns_data is not None
    assert zns.zns_data["documents"] == "Bản sao Giấy chứng nhận kết hôn; Giấy chứng sinh"


def test_zns_data_holds_the_params_as_given() -> None:
    rendered = TEMPLATES.render("result_ready", "zns", VALUES["result_ready"])
    assert rendered.zns_template == "motcua_ket_qua"
    assert rendered.zns_data == {
        name: VALUES["result_ready"][name] for name in TEMPLATES["result_ready"].zns_params or ()
    }


def test_values_are_inserted_as_given_without_escaping_and_in_nfc() -> None:
    values = VALUES["refused"] | {
        "reason": "Thiếu <bản sao> & {chứng thực}",
        "name": unicodedata.normalize("NFD", "Đỗ Thị Huệ"),
    }
    email = TEMPLATES.render("refused", "email", values).text
    assert "Thiếu <bản sao> & {chứng thực}" in email
    assert "Kính gửi Ông/Bà Đỗ Thị Huệ," in email  # composed again: an NFD name would double an SMS


def test_a_missing_value_is_refused() -> None:
    values = dict(VALUES["received"])
    del values["due_date"]
    with pytest.raises(ValueError, match="missing due_date; unexpected none"):
        TEMPLATES.render("received", "sms", values)


def test_an_extra_value_is_refused() -> None:
    values = VALUES["withdrawn"] | {"reason": "Ông/Bà đề nghị"}
    with pytest.raises(ValueError, match="missing none; unexpected reason"):
        TEMPLATES.render("withdrawn", "email", values)


def test_an_unknown_milestone_or_a_non_text_value_is_refused() -> None:
    with pytest.raises(KeyError, match="no template for milestone 'dossier_lost'"):
        TEMPLATES.render("dossier_lost", "sms", {})
    with pytest.raises(TypeError, match="'amount' must be a string or a list of strings"):
        TEMPLATES.render("payment_expired", "sms", VALUES["payment_expired"] | {"amount": 24000})  # type: ignore[dict-item]


def test_zns_registry_has_every_citizen_template_with_its_params() -> None:
    registry = TEMPLATES.zns_registry()["templates"]
    citizen = [TEMPLATES[m] for m in TEMPLATES.milestones("citizen")]
    assert set(registry) == {t.zns_template for t in citizen} and len(registry) == len(citizen)
    for template in citizen:
        entry = registry[template.zns_template]
        assert entry["params"] == list(template.zns_params or ())
        assert entry["text"] == template.zns_text
        for param in entry["params"]:
            assert "{" + param + "}" in entry["text"]
    assert registry["motcua_ket_qua"]["params"] == [
        "name",
        "dossier_code",
        "result_code",
        "how_to_collect",
        "download_url",
    ]


@pytest.mark.parametrize("milestone", TEMPLATES.milestones("citizen"))
def test_a_citizen_sms_fits_three_ucs2_segments(milestone: str) -> None:
    text = TEMPLATES.render(milestone, "sms", VALUES[milestone]).text
    assert sms_segments(text) <= 3, f"{milestone}: {len(text)} characters, {sms_segments(text)} segments: {text}"


@pytest.mark.parametrize("milestone", TEMPLATES.milestones())
def test_an_sms_without_its_link_is_two_ucs2_segments_at_most(milestone: str) -> None:
    values = VALUES[milestone]
    text = TEMPLATES.render(milestone, "sms", values).text
    for name, value in values.items():
        if name.endswith("_url"):
            text = text.replace(str(value), "")
    assert len(text) <= 134 or milestone == "complaint_answered", f"{milestone}: {len(text)} characters: {text}"


def test_every_text_in_the_file_is_nfc() -> None:
    data = tomllib.loads(DEFAULT_PATH.read_text(encoding="utf-8"))
    for milestone, table in data.items():
        for field, text in table.items():
            if isinstance(text, str):
                assert unicodedata.is_normalized("NFC", text), f"{milestone}.{field}"


GOOD = """
[withdrawn]
audience = "citizen"
values = ["name", "dossier_code"]
sms = "Hồ sơ {dossier_code} đã được rút."
email_subject = "Hồ sơ {dossier_code} đã được rút"
email_body = "Kính gửi Ông/Bà {name},"
zns_template = "motcua_rut_ho_so"
zns_params = ["name", "dossier_code"]
zns_text = "Kính gửi Ông/Bà {name}, hồ sơ {dossier_code} đã được rút."
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "templates.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_small_good_file_loads(tmp_path: Path) -> None:
    templates = load(write(tmp_path, GOOD))
    assert (
        templates.render("withdrawn", "sms", {"name": "An", "dossier_code": CODE}).text == f"Hồ sơ {CODE} đã được rút."
    )


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (
            ('sms = "Hồ sơ {dossier_code} đã được rút."', 'sms = "Hồ sơ {ma_ho_so} đã được rút."'),
            r"sms: placeholder \{ma_ho_so\} is not among values",
        ),
        (
            ('zns_params = ["name", "dossier_code"]', 'zns_params = ["name", "dossier_code", "reason"]'),
            "zns_params: 'reason' is not among values",
        ),
        (('zns_text = "Kính gửi Ông/Bà {name}, h', 'zns_text = "H'), "zns_text must use every one of zns_params"),
        (('audience = "citizen"', 'audience = "leader"'), "audience: Input should be 'citizen' or 'official'"),
        (('zns_template = "motcua_rut_ho_so"\n', ""), "citizen messages need zns_template"),
        (
            ('sms = "Hồ sơ {dossier_code} đã được rút."', 'sms = "Hồ sơ {dossier_code:>20} đã được rút."'),
            "must be a plain",
        ),
        (('sms = "Hồ sơ {dossier_code} đã được rút."', 'sms = "Hồ sơ {dossier_code đã được rút."'), "a literal brace"),
        (
            ('email_body = "Kính gửi Ông/Bà {name},"', 'email_body = "Kính gửi Ông/Bà,"\nemail_bodyy = "x"'),
            "email_bodyy: Extra inputs",
        ),
        (
            ('values = ["name", "dossier_code"]', 'values = ["name", "dossier_code", "reason"]'),
            "'reason' is used by no text",
        ),
        (('email_subject = "Hồ sơ', 'email_subject = "Ho\u0302\u0300 sơ'), "email_subject: text is not NFC"),
    ],
)
def test_a_bad_template_is_refused_naming_it(tmp_path: Path, change: tuple[str, str], problem: str) -> None:
    old, new = change
    assert old in GOOD
    with pytest.raises(ValueError, match=rf"templates.toml: template 'withdrawn': .*{problem}"):
        load(write(tmp_path, GOOD.replace(old, new)))


def test_an_official_template_with_zns_fields_and_a_shared_zns_id_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="template 'withdrawn': official messages have no ZNS template"):
        load(write(tmp_path, GOOD.replace('audience = "citizen"', 'audience = "official"')))
    with pytest.raises(
        ValueError, match="template 'withdrawn_again': zns_template 'motcua_rut_ho_so' is already 'withdrawn'"
    ):
        load(write(tmp_path, GOOD + GOOD.replace("[withdrawn]", "[withdrawn_again]")))


def test_a_file_that_is_not_toml_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"templates\.toml: "):
        load(write(tmp_path, "[withdrawn\naudience = 1"))


@pytest.mark.parametrize(
    ("text", "segments"),
    [
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("€" * 80, 1),  # an extension character takes two septets
        ("€" * 81, 2),
        ("Hồ sơ" + "a" * 65, 1),  # one Vietnamese letter makes the whole text UCS-2
        ("Hồ sơ" + "a" * 66, 2),
        ("ồ" * 134, 2),
        ("ồ" * 135, 3),
        ("Ho sơ", 1),
    ],
)
def test_sms_segments_count_gsm7_and_ucs2(text: str, segments: int) -> None:
    assert sms_segments(text) == segments
