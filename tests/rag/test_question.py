"""Question analysis on made-up questions: the kind of answer asked for, and the thing asked about."""

from __future__ import annotations

import pytest

from rag.names import categories, categories_conflict, named_things, names_conflict, other_side
from rag.question import analyse, answer_type, content_words, defined_term


@pytest.mark.parametrize(("question", "kind"), [
    # "How much" is a price only when money is in view; a difference may be a share or any amount.
    ("How much is the parking permit?", "money"),
    ("How much does a season ticket cost?", "money"),
    ("How much cheaper is the student rate?", "quantity"),
    ("By how much did ridership grow between 2010 and 2020?", "quantity"),
    ("How much did the share of electric buses grow since 2015?", "quantity"),
    ("How much can a volunteer work each week?", "quantity"),
    ("How much time does an applicant have to appeal?", "duration"),
    ("How quickly will the library reply to a complaint?", "duration"),  # speed is asked as a time taken
    ("How old must a borrower be?", "quantity"),
    ("What is the youngest age for a library card?", "quantity"),
    # A question without a question word asks for what its noun names.
    ("Parking permit fee?", "money"),
    ("Museum pass start?", "date"),
    ("Library card period of validity?", "duration"),
    ("Locker deposit?", "money"),
    ("借书证挂失时限？", "duration"),
    ("What is the effective date of the bylaw?", "date"),
    ("What is a 'reading room pass'?", "definition"),
    # A Chinese question names money by its noun: a fine, a subsidy, an application fee.
    ("违规停车罚款多少？", "money"),
    ("申请费是多少？", "money"),
    # ... and a Chinese question word outranks the noun it asks about.
    ("哪些人可以免交停车证费用？", "person"),
    ("在哪里缴纳停车费？", "place"),
    ("分别在哪几条？", "list"),  # "which ones", not where, nor how many
    ("有哪几种停车证？", "list"),
    # A count of days, hours or working days is a duration, in English and in Chinese; "几月" is a month.
    ("How many business days does a refund take?", "duration"),
    ("Within how many days must I appeal?", "duration"),
    ("雇主必须在几天内注销准证？", "duration"),
    ("几个工作日能办好？", "duration"),
    ("超时能多给几分钟？", "duration"),
    ("每年几月开放申请？", "date"),
    ("几月几日施行？", "date"),
    ("多少日元？", "money"),
    ("会员年费多少？", "money"),
    ("几岁可以办借书证？", "quantity"),
    # "What is the X ...?" asks for what X's head noun names; "What is the K visa?" asks what a thing is.
    ("What is the processing time for a parking permit?", "duration"),
    ("What's the validity period of the pass?", "duration"),
    ("What is the time limit for an appeal?", "duration"),
    ("What is the reading room?", "definition"),
    ("What is the pay structure?", "definition"),
    ("What is the cabin bag allowance?", "other"),  # the allowance itself, not what the word means
    ("What does a season ticket cost?", "money"),
    ("How expensive is the permit?", "money"),
    ("What body hears parking appeals?", "organisation"),
    ("What score does the language test require?", "quantity"),
    ("What interest rate does the deposit earn?", "quantity"),
    ("多大年纪算老年人？", "quantity"),
    # "when" asks for a date before a verb it inverts, not as a condition ("... mean when applying").
    ("What does 'stable housing' mean when applying for a library card?", "definition"),
    ("What happens when my pass expires?", "other"),
    ("And when does the new loan period start?", "date"),
    ("I'd like to know when the rule takes effect.", "date"),
])
def test_the_kind_of_answer_asked_for(question: str, kind: str) -> None:
    assert answer_type(question) == kind


def test_a_contracted_question_word_is_read_as_written_out() -> None:
    fee = analyse("What's the parking permit fee?")
    assert fee.answer_type == "money"
    assert fee.text == "What's the parking permit fee?"  # an answer repeats the question as the user wrote it
    assert analyse("What’s a 'reading room pass'?").defined == "reading room pass"  # a typographic apostrophe
    assert analyse("Who's the library's director?").answer_type == "person"
    assert analyse("whats a 'reading room pass'").defined == "reading room pass"  # no apostrophe at all
    assert [t.text for t in analyse("whats the locker fee").focus] == ["locker", "fee"]
    assert analyse("whose locker is it?").answer_type == "person"


def test_container_nouns_and_numbers_are_not_the_attribute() -> None:
    assert analyse("Which groups can apply for the museum pass?").attribute is None
    assert analyse("What two kinds of pass does the city offer?").attribute is None
    documents = analyse("What two documents must an applicant bring?").attribute
    assert documents is not None and documents.text == "document"
    fee = analyse("What is the parking permit fee?").attribute
    assert fee is not None and fee.text == "fee"
    # A noun naming the kind of answer is not a thing the answer must mention: "30%" answers "what percentage".
    assert analyse("What percentage of members stopped visiting because of fines?").attribute is None
    assert analyse("What is the processing time for a parking permit?").attribute is None
    # A list asks for the members of a set: "criteria" or "requirements" are rarely written beside them.
    assert analyse("What are the parking permit requirements?").attribute is None


@pytest.mark.parametrize(("question", "attribute"), [
    ("市图书馆每年发放多少张借书证名额？", "名额"),  # the last noun of the phrase after the measure word "张"
    ("公园每年有多少停车名额？", "名额"),
    ("停车场最少要有几名管理员？", "管理员"),
    ("停车证的申请费是多少？", "申请费"),
    ("月票的收入要求是多少？", "收入"),  # "要求" heads the phrase without saying what is asked
    ("一般要等几个工作日才能拿到停车证？", "工作日"),
    ("办停车证要交多少欧元？", None),  # a currency is the kind of answer, not a thing named
    ("申请停车证有什么条件？", None),  # the conditions are stated, rarely the word "条件"
    ("申请停车证要准备哪些材料？", "材料"),  # a list of things a unit must name
    ("停车证什么时候到期？", None),
])
def test_the_noun_a_chinese_question_asks_about(question: str, attribute: str | None) -> None:
    found = analyse(question).attribute
    assert (found.text if found else None) == attribute

def test_what_are_the_members_of_a_set_is_a_list_not_a_definition() -> None:
    assert answer_type("What are the parking permit criteria?") == "list"
    assert answer_type("What is a parking permit?") == "definition"
    assert answer_type("What is the 10% rebate?") == "definition"
    assert answer_type("绿卡到底是什么？") == "definition"


@pytest.mark.parametrize(("question", "term"), [
    ("What is a 'reading room pass'?", "reading room pass"),
    ("What does NPRM stand for?", "NPRM"),
    ("What is the Blue Card?", "Blue Card"),
    ("What is Larkhaven's Green Card?", "Green Card"),
    ("What does late charge mean for library users?", "late charge"),
    ("什么是绿卡？", "绿卡"),
    ("绿卡具体是什么意思？", "绿卡"),  # the adverb asks nothing
    ("What does an LW on my library record mean?", "LW"),  # where it is written is not part of the term
    ("What counts as a late return?", "late return"),
])
def test_the_term_a_definition_question_asks_about(question: str, term: str) -> None:
    assert defined_term(question) == term


def test_terms_borrowed_from_the_context_are_marked() -> None:
    question = analyse("How much does the Green Card cost and who can apply for it?")
    second = question.parts[1]
    assert not any(t.borrowed for t in second.focus if t.text == "apply")
    assert any(t.borrowed and t.text == "green" for t in second.focus)


def test_a_long_name_is_read_whole_so_its_shorter_form_is_no_sibling() -> None:
    asked = named_things("How much is the fee for an Irish Critical Skills Employment Permit?")
    assert asked == frozenset({"Irish Critical Skills Employment Permit"})
    assert not names_conflict(asked, frozenset({"Critical Skills Employment Permit"}))


@pytest.mark.parametrize(("question", "kind"), [
    ("If my wife comes with me on my permit, is she allowed to work?", "yes_no"),
    ("I'm in Larkhaven on a visitor pass. Can I borrow books?", "yes_no"),
    ("If I lose my card, how much does a new one cost?", "money"),
    ("When I arrive, how long do I have to register?", "duration"),
    ("When did the rules take effect?", "date"),  # "when" asking, not setting a time
])
def test_the_clause_that_asks_decides_the_kind_of_answer(question: str, kind: str) -> None:
    assert analyse(question).answer_type == kind


@pytest.mark.parametrize(("asked", "named", "conflict"), [
    ("Green Card", "Blue Card", True),
    ("Skilled Worker", "Highly Skilled Professional", True),  # one shared word makes a sibling, not the name
    ("Ann Lee", "Judge Ann Lee", False),  # a longer form of the same name
    ("Skilled Worker", "Skilled Worker", False),
    ("Skilled Worker", "Home Office", False),  # another name, no word shared
])
def test_a_sibling_name_conflicts_with_the_asked_one(asked: str, named: str, conflict: bool) -> None:
    assert names_conflict(frozenset({asked}), frozenset({named})) is conflict


@pytest.mark.parametrize(("asked", "text", "conflict"), [
    ("What does a Class C permit cost?", "A Class A permit costs 40 euros and a Class B permit 60 euros.", True),
    ("What does a Class B permit cost?", "A Class A permit costs 40 euros and a Class B permit 60 euros.", False),
    ("C类人员的积分标准是多少？", "积分达到85分以上的，可以认定为A类；积分在60分以上的，可以认定为B类。", True),
    ("What points make a worker Category A?", "积分达到85分以上的，可以认定为A类。", False),  # one label, two languages
    ("Which jobs are on Tier 1?", "Tier 2 lists jobs with a shorter path to residence.", True),
    ("Which jobs are on Tier 1?", "Grade 2 staff may apply.", False),  # another kind of label
    ("What does a Class C permit cost?", "Permits cost 40 euros.", False),  # no label named at all
])
def test_another_category_of_the_same_kind_conflicts_with_the_asked_one(asked: str, text: str,
                                                                        conflict: bool) -> None:
    assert categories_conflict(categories(asked), categories(text)) is conflict


@pytest.mark.parametrize(("question", "members"), [
    ("Which jobs are on the city's Shortage Occupation List?", True),
    ("What boats are on the harbour watch list?", True),
    ("紧缺人才目录里都有哪些岗位？", True),
    ("Which documents are in the application pack?", False),  # a pack is no named list
    ("Why are welders on the Shortage Occupation List?", False),  # asks a reason, not the entries
])
def test_a_list_question_about_what_a_named_list_holds(question: str, members: bool) -> None:
    assert analyse(question).members is members


@pytest.mark.parametrize(("asked", "text", "conflict"), [
    ("What is the fee when applying from inside the UK?", "The fee is 769 pounds when applying from outside the UK.",
     True),
    ("How long does it take from outside Canada?", "Applications from inside Canada take 4 weeks.", True),
    ("How long does it take from outside Canada?", "Applications from outside Canada take 2 weeks.", False),
    ("在英国境内申请要多少钱？", "在英国境外申请的费用是769英镑。", True),
    ("What is the fee?", "The fee is 769 pounds when applying from outside the UK.", False),  # no side asked
])
def test_the_other_side_of_a_border_is_not_the_asked_one(asked: str, text: str, conflict: bool) -> None:
    assert other_side(asked, text) is conflict


def test_only_a_capital_letter_or_a_number_labels_a_category() -> None:
    assert categories("a class a student takes") == frozenset()
    assert categories("Type 2 and Level IV") == {("class", "2"), ("level", "IV")}


@pytest.mark.parametrize(("question", "subjects"), [
    ("Which came out first, the parking bylaw or the bus lane order?", ("parking bylaw", "bus lane order")),
    ("Which was signed earlier: the harbour treaty or the river accord?", ("harbour treaty", "river accord")),
    ("停车条例和公交专用道令，哪个签署得更早？", ("停车条例", "公交专用道令")),
])
def test_which_of_two_came_first_is_asked_as_the_date_of_each(question: str, subjects: tuple[str, ...]) -> None:
    analysed = analyse(question)
    assert analysed.answer_type == "comparison" and analysed.subjects == subjects
    assert [side.answer_type for side in analysed.parts] == ["date", "date"]
    for side, subject, other in zip(analysed.parts, subjects, subjects[::-1], strict=True):
        assert subject in side.search_text and other not in side.search_text  # each side is retrieved alone


def test_a_question_asked_of_each_of_two_things_keeps_its_kind_on_each_side() -> None:
    analysed = analyse("How much do the Z visa and the R visa each cost?")
    assert analysed.answer_type == "comparison" and analysed.subjects == ("Z visa", "R visa")
    assert [(side.answer_type, side.visa_classes) for side in analysed.parts] == [
        ("money", frozenset({"Z"})), ("money", frozenset({"R"}))]
    sides = analyse("停车卡和月票分别面向哪些人？").parts
    assert [side.answer_type for side in sides] == ["person", "person"]


@pytest.mark.parametrize("question", ["Which permit should I get first?", "Which rule came first?",
                                      "How much can a volunteer work each week?"])
def test_order_and_each_words_alone_make_no_comparison(question: str) -> None:
    assert analyse(question).answer_type != "comparison"


def test_a_comparison_written_with_vs_names_its_subjects() -> None:
    assert analyse("Parking permit vs season ticket: who can apply?").subjects == ("Parking permit", "season ticket")


def test_what_is_compared_written_before_the_first_subject_is_the_aspect_not_part_of_it() -> None:
    analysed = analyse("How do the loan periods for books and DVDs differ?")
    assert analysed.subjects == ("books", "DVDs") and analysed.aspects == ("loan periods",)
    # Aspects the question names after the subjects still win.
    assert analyse("How do the Blue Card and the Green Card differ on fees?").aspects == ("fees",)
    # "those for" stands in for the aspect: the second subject is what follows it.
    analysed = analyse("How do the loan periods for books differ from those for DVDs?")
    assert analysed.subjects == ("books", "DVDs") and analysed.aspects == ("loan periods",)
    # After question words, and with "on" before the subjects: the subjects are not an aspect.
    analysed = analyse("What's the loan period on books versus DVDs?")
    assert analysed.subjects == ("books", "DVDs") and analysed.aspects == ("loan period",)
    analysed = analyse("Blue Card vs Green Card on fees?")
    assert analysed.subjects == ("Blue Card", "Green Card") and analysed.aspects == ("fees",)


def test_the_content_words_of_an_aspect_leave_out_generic_nouns() -> None:
    assert content_words("language requirements") == ("language",)
    assert content_words("requirements") == ("requirement",)  # nothing else to say what it is about
    assert content_words("checked bag allowance") == ("check", "bag")  # the allowance is the answer, not a word in it


def test_a_visa_class_typed_in_lower_case_is_still_a_class() -> None:
    assert analyse("can k visa holders start a company?").visa_classes == {"K"}
    assert analyse("how much is the h-1b fee").visa_classes == {"H-1B"}
    # ... but a word before "visa" names none
    for question in ("do I need a visa?", "is my visa still valid?", "no visa needed?", "can I get an e visa?"):
        assert analyse(question).visa_classes == frozenset()
    # the owner of a class typed in lower case is not part of the term
    assert analyse("what is china's q1 visa").defined == "q1 visa"
    assert analyse("What is the employer's duty?").defined == "employer's duty"


@pytest.mark.parametrize(("question", "kind"), [
    ("Can you tell me who runs the museum pass scheme?", "person"),
    ("I'd like to know how long a library card lasts.", "duration"),
    ("Do you know what the locker fee is?", "money"),
    ("Please tell me why the fee went up.", "reason"),
    ("Do you know if I can renew online?", "yes_no"),  # "if": still a yes/no question
    ("Can you renew online?", "yes_no"),  # "can you" asking about the reader is no frame
    ("请问借书证什么时候开始办理？", "date"),
    ("你知道借书证什么时候开始办理吗？", "date"),  # the frame's 吗 does not make it yes/no
])
def test_a_question_inside_a_polite_frame_is_read_without_it(question: str, kind: str) -> None:
    analysed = analyse(question)
    assert analysed.answer_type == kind
    assert analysed.text == question  # an answer repeats the question as it was asked
    assert not {"like", "know", "tell", "知道"} & {t.text for t in analysed.focus}


@pytest.mark.parametrize("question", ["Hi, how much is the locker fee? Thanks!", "Hello! How much is the locker fee?",
                                      "How much is the locker fee? thanks in advance",
                                      "How much is the locker fee? thx"])
def test_greetings_and_thanks_ask_nothing(question: str) -> None:
    assert analyse(question).focus == analyse("How much is the locker fee?").focus
    assert analyse(question).answer_type == "money" and not analyse(question).parts


def test_greetings_and_thanks_in_chinese_ask_nothing() -> None:
    assert analyse("你好，借书证多少钱？谢谢！").focus == analyse("借书证多少钱？").focus
    assert {t.text for t in analyse("What is the Thank You card?").focus} >= {"thank", "card"}  # a name stays


def test_statements_before_the_question_lend_their_terms_as_context() -> None:
    analysed = analyse("My locker is on the second floor. How much is the locker fee?")
    own = [t.text for t in analysed.focus if not t.borrowed]
    assert own == ["locker", "fee"]  # what is asked
    assert {"second", "floor"} <= {t.text for t in analysed.focus if t.borrowed}  # who asks, and where
    # a two-part question has no preamble: each part asks
    assert not any(t.borrowed for t in analyse("When was it published? When does it start?").focus)

