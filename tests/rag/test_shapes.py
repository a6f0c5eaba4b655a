"""What each kind of answer looks like in a sentence, and what a definition looks like, on made-up sentences."""

from __future__ import annotations

import pytest

from rag.shapes import defines, enumerates, has_shape


@pytest.mark.parametrize(("term", "text", "defined"), [
    ("Blue Card", "The Blue Card is a membership of the city library.", True),
    ("late charge", "A late charge: 20 cents a day per item.", True),
    ("J-Pass", 'The fast track, called "J-Pass", skips the waiting list.', True),
    ("reading room pass", 'Visitors receive a day ticket (the "reading room pass").', True),
    ("NPRM", "Action: notice of proposed rulemaking.", True),  # an acronym spelled out
    ("Q1 visa", "| (8) | Q1 | Family members who come to live with relatives |", True),  # a row of a visa table
    ("Blue Card", "Holders of a Blue Card may borrow 15 items.", False),  # mentioned, not defined
    ("RIN", "Regulation text follows.", False),  # one word never spells an acronym
    ("10% rebate", "Members may also claim the 10% rebate, a discount on annual fees.", True),  # an apposition
    ("reader status", "After a year a member may apply for reader status, which lets them borrow rare books.", True),
    ("LRC procedure", "Schools use the joint Loan and Return (LRC) procedure for class sets.", True),
    ("会员证", "图书馆为市民办理会员证，即凭身份证免费借阅的证件。", True),  # Chinese: no space before the word
    ("Blue Card", "Children may apply for the Blue Card at any branch.", False),  # "for" is not "or"
    ("late return", "A loan counts as a late return if it comes back after closing time.", True),
    ("late return", "- count as a late return.", False),  # a condition on something else, not a definition
    ("Blue Card", "The Blue Card is for residents aged 12 or over.", True),
    # "X is" followed by what happens to X, or what it is for, says nothing of what X is
    ("Blue Card", "The rule that adds the Blue Card is actually put into effect in May.", False),
    ("Blue Card", "Compared with the old card, the Blue Card is to give members more loans.", False),
    ("Blue Card", "The Blue Card was introduced in 2019.", False),
    ("Annual Pass", "The Annual Pass is given to residents.", False),  # what happens to it
    ("Annual Pass", "The Annual Pass is open to all residents of the city.", True),  # "open" is no participle
    # A term typed in lower case is defined as its capitals are: an acronym, a class in a visa table.
    ("tev procedure", "Nationals use the combined Entry and Residence (TEV) procedure, which covers both.", True),
    ("nprm", "Action: notice of proposed rulemaking (NPRM).", True),
    ("f visa", "| (3) | F | People coming for exchanges and visits |", True),
    # "or" names a thing after a comma or before quotes, not as a plain alternative
    ("going rate", "Members pay 18 euros a year or the going rate, whichever is higher.", False),
    ("LSR", "The loan scheme for researchers, or LSR, lends rare books.", True),
    ("R-Pass", 'A further track, the research reader system or "R-Pass", opened in 2023.', True),
])
def test_a_text_that_defines_the_asked_term(term: str, text: str, defined: bool) -> None:
    assert defines(term, text) is defined


@pytest.mark.parametrize(("answer_type", "text", "typed"), [
    ("count", "积分达到85分以上的，可以认定为A类。", True),  # a number between Chinese characters counts
    ("reason", "设立该类别是为了吸引年轻的科技人才。", True),
    ("reason", "符合条件的人才可以直接申请落户。", False),  # "可以" and "为" say no reason
    ("reason", "Members renew online in order to skip the queue.", True),
    ("reason", "Members must keep their receipts for two years.", False),
    ("reason", "Because no permit is needed, owners can start at once.", True),  # a reason opening a sentence
    ("reason", "The fees follow the price index, so they change every year.", True),  # what follows from it
    ("reason", "Since 2021 new applicants join a waiting list.", False),  # "since" a time is no reason
    ("reason", "Since the fee rose, fewer members renew.", True),
    ("reason", "The pass has been cheap, so far.", False),
    ("count", "The H1B rules for FY2026.", False),  # digits inside names count nothing
    ("percentage", "未经转诊的，报销比例降低20个百分点。", True),  # percentage points are a share
    ("percentage", "The discount fell by 5 percentage points.", True),
    ("percentage", "The pass costs 20 yuan.", False),
    ("reason", "Members must keep their receipts. Why? Auditors check them.", False),  # alone: "Why?" answers nothing
    ("duration", "Care workers who applied on or after 11 March 2024 can no longer bring dependants.", False),
    ("duration", "A worker may settle after 5 years.", True),
    ("duration", "Customer Care meets its 10-business-day reply standard.", True),  # a kind of day between
    ("duration", "外国人应当在入境后30日内申请居留许可。", True),
    ("duration", "审批部门在受理后10个工作日内作出决定。", True),
    ("duration", "一般在4个星期内完成审批。", True),
    ("duration", "A rider whose dock is full gets 15 minutes more.", True),
    ("duration", "自2017年4月1日起施行。", False),  # a date, not a duration
    ("money", "The employer pays a fee of EUR 411.", True),  # an ISO currency code before the amount
    ("money", "| Work permit | CAD 155 | worker |", True),
    ("money", "The salary must reach 3 million yen a year.", True),
    ("money", "申请人须缴付155加元。", True),
    ("money", "每宗申请收费1,000港元。", True),
    ("money", "The permit lasts 3 years for 3 million people.", False),
    ("money", "The EURO area grew in 2024.", False),
    ("money", "A candidate must earn at least 5,600 Singapore dollars a month.", True),  # a country names the currency
    ("money", "The fund holds 2 million Hong Kong dollars.", True),
    ("person", "Candidates earning more than that are exempt.", True),  # a person noun opening a sentence
    ("person", "The permit is issued by the Harbour Office.", True),  # "who" is answered by a body as often
    ("person", "The permit is valid for two years.", False),
    ("person", "七十岁以上老人和残疾人免收费用。", True),
    ("person", "第一张停车证每年收费300元。", False),
    ("place", "申请人可以通过小程序或者到区政务服务中心办理。", True),
    ("place", "Apply through the online portal or at a service centre.", True),
])
def test_the_shape_of_an_answer_type(answer_type: str, text: str, typed: bool) -> None:
    assert has_shape(answer_type, text) is typed


def test_a_number_must_count_the_thing_asked_about_in_either_language() -> None:
    assert has_shape("count", "The library lends 15 books at once.", ("book",))
    assert not has_shape("count", "The library opened 15 years ago.", ("book",))
    # An English question about a Chinese text: the noun after the number counts through its English.
    assert has_shape("count", "全市共有4所大学。", ("university",))
    assert not has_shape("count", "全市共有4个公园。", ("university",))


@pytest.mark.parametrize(("text", "listed"), [
    ("The Shortage List includes welders, nurses and chefs.", True),
    ("名单上的岗位包括：焊工、护士、厨师。", True),
    ("Jobs on the list: - welders - nurses - chefs", True),
    # clauses joined by commas and "and" are not entries, nor is a list named inside a sentence
    ("A job qualifies if it pays at least 64,000 a year and is not on the Ineligible List; then no degree is "
     "needed, as long as the applicant has experience.", False),
    ("Two bonuses can add more: 20 points for jobs on the Shortage List, and 10 points for firms in selected "
     "programmes.", False),
])
def test_a_text_that_names_the_entries_of_a_list(text: str, listed: bool) -> None:
    assert enumerates(text) is listed

