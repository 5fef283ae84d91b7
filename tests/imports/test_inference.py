"""A mapping inferred from headers: API names, then labels in any language, then
synonyms; anything unclear is named, never guessed."""

from __future__ import annotations

from crm_platform.imports import infer_mapping


def _infer(org, headers, samples=()):
    with org.reading() as (_conn, model):
        return infer_mapping(model.objects["contact"], headers, list(samples))


def test_api_names_labels_and_synonyms_in_english_and_chinese(org, load_metadata):
    load_metadata("imports")
    inferred = _infer(
        org,
        ["last_name", "名", "E-mail", "手机", "电话", "Company", "Date of birth"],
        [["Li", "Wei", "li@x.com", "1", "2", "Acme", "05.03.1990"]],
    )
    assert inferred.complete, inferred.unplaced
    fields = {h: (c.field, dict(c.options)) for h, c in inferred.mapping.columns.items()}
    assert fields == {
        "last_name": ("last_name", {}),
        "名": ("first_name", {}),
        "E-mail": ("email", {}),
        "手机": ("mobile", {}),  # the label of mobile, not a synonym of every phone field
        "电话": ("phone", {}),
        "Company": ("account", {"lookup": "name"}),
        "Date of birth": ("birthdate", {"date_format": "%d.%m.%Y"}),
    }


def test_unclear_headers_are_named_with_the_reason(org, load_metadata):
    load_metadata("imports")
    inferred = _infer(org, ["Last name", "Telephone", "Email", "email", "Shoe size", "error"])
    assert dict(inferred.unplaced) == {
        "Telephone": "matches several fields: mobile, phone",
        "Email": "columns 'Email', 'email' all match email",
        "email": "columns 'Email', 'email' all match email",
        "Shoe size": "no field matches this header",
    }
    assert inferred.mapping.columns["error"].field is None  # an error file's reasons
