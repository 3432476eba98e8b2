from hypothesis import given
from hypothesis import strategies as st

from finops_digest.ingest.csv_safety import neutralize, restore


def test_formula_triggers_are_neutralised_with_an_apostrophe():
    assert neutralize('=HYPERLINK("http://x")') == '\'=HYPERLINK("http://x")'
    assert neutralize("+1") == "'+1"
    assert neutralize("-2+3") == "'-2+3"
    assert neutralize("@SUM(A1)") == "'@SUM(A1)"
    assert neutralize("\tx") == "'\tx"
    assert neutralize("Marketing") == "Marketing"
    assert neutralize("a=b") == "a=b"


@given(st.text(alphabet=st.sampled_from("'=+-@\t\rab,\"\n"), max_size=8) | st.text(max_size=30))
def test_restore_gives_back_the_true_value(text):
    cell = neutralize(text)
    assert restore(cell) == text
    assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))
