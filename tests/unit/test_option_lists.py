"""Lists of sites and groups in the console (the site picker, a check-in's place, a
returner's sites, the groups to move someone to) written by plain functions: a
program of a hundred sites draws them on every visit. Names are typed by staff, so
they are escaped; the chosen ones are marked whether the ids come as numbers or as
the strings a form posts back."""

from blueprints.web import check_tags, option_tags


def test_options_mark_the_chosen_site_and_escape_every_name():
    html = str(option_tags([(1, "Boston"), (2, "Needham <South> & Co")], 2))
    assert html == ('<option value="1">Boston</option>'
                    '<option value="2" selected>Needham &lt;South&gt; &amp; Co</option>')


def test_an_id_posted_back_as_text_is_still_the_chosen_one():
    assert 'value="1" selected' in str(option_tags([(1, "Boston"), (2, "Needham")], "1"))


def test_no_choice_marks_no_option():
    assert "selected" not in str(option_tags([(1, "Boston")], None))
    assert "selected" not in str(option_tags([(1, "Boston")], ""))


def test_checks_tick_every_chosen_site_each_with_its_label():
    html = str(check_tags([(1, "Boston"), (2, "Needham"), (3, "Quincy")], ["1", 3],
                           "location_ids", "loc"))
    assert html == (
        '<div class="check"><input type="checkbox" id="loc-1" name="location_ids" '
        'value="1" checked><label for="loc-1">Boston</label></div>\n'
        '<div class="check"><input type="checkbox" id="loc-2" name="location_ids" '
        'value="2"><label for="loc-2">Needham</label></div>\n'
        '<div class="check"><input type="checkbox" id="loc-3" name="location_ids" '
        'value="3" checked><label for="loc-3">Quincy</label></div>')
