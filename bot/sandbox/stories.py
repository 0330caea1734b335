"""The sandbox's invented newsrooms and their pool of story templates; rendering feeds is left to others.

Every headline, dek and publication here was written for this project (none is copied from a real outlet).
Some carry `&`, quotes, `<` and accents on purpose, so the sandbox shows escaping and Unicode at work.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Publication:
    """One invented news site: where it lives on the sample server and how its feed is shaped."""

    key: str  # URL prefix on the sample server: /<key>/
    name: str
    tagline: str
    format: str  # "rss" (WordPress-style RSS 2.0), "atom" (Atom 1.0) or "json" (JSON Feed 1.1)
    feed_path: str  # path of the feed under /<key>/
    colours: tuple[str, str]  # the placeholder images' gradient, "#rrggbb"
    # how it tells the bot it published: "ping" (an update ping, as WordPress sends), "push" (a WebSub hub
    # it advertises pushes its feed) or "poll" (it does not: the bot polls the feed)
    delivery: str = "poll"


@dataclass(frozen=True, slots=True)
class Story:
    """A story template: the sample server stamps it with a fresh guid, URL and time each time it runs."""

    publication: str
    headline: str
    dek: str
    categories: tuple[str, ...]
    author: str
    body: str


PUBLICATIONS: tuple[Publication, ...] = (
    Publication(
        "courier", "The Millbrook Courier", "News for Millbrook and the valley", "rss", "feed/",
        ("#1d4e89", "#58a4b0"), "ping",
    ),
    Publication(
        "fieldnotes", "Field Notes", "Science, slowly explained", "atom", "atom.xml", ("#2d6a4f", "#b7e4c7"),
        "push",
    ),
    Publication(
        "ledger", "The Open Ledger", "Business and technology, without the jargon", "json", "feed.json",
        ("#7f4f24", "#e9c46a"),
    ),
)  # fmt: skip


def _parse(publication: str, text: str) -> tuple[Story, ...]:
    """Stories separated by blank lines: headline, dek, "Category, Category | Author", one line of body."""
    stories = []
    for block in text.strip().split("\n\n"):
        headline, dek, meta, body = block.strip().split("\n")
        categories, author = meta.split(" | ")
        cats = tuple(c.strip() for c in categories.split(","))
        stories.append(Story(publication, headline, dek, cats, author.strip(), body))
    return tuple(stories)


# The Millbrook Courier: local news, served as WordPress-style RSS.
_COURIER = """
Night buses return to the river line after a two-year gap
Route 14 will run every 30 minutes until 2 a.m. from next month, the transit authority said on Tuesday.
Transport, Local | Dana Whitfield
Council members approved the trial after a petition gathered more than 4,000 signatures.

Q&A: what the new parking zones mean for Old Town residents
Permits, visitor passes and the streets that change first — answers to the questions readers sent us.
Local, Explainers | Priya Raman
The first zone starts on Mill Street; residents can apply online or at the library.

Millbrook bakery wins regional bread prize for the third year
Judges praised the rye sourdough at Hartley & Sons, a family business on Canal Street since 1961.
Business, Food | Tom Okafor
The family plans to open a second shop near the station in spring.

Heavy rain warning issued for the valley through Thursday
Forecasters expect up to 60 mm in places; the council is handing out sandbags at the depot.
Weather, Local | Helen Marsh
Flood barriers on the east bank will be raised overnight.

Library extends weekend hours after record autumn visits
The central branch will open on Sundays from 10 a.m. to 4 p.m., starting this weekend.
Local, Culture | Priya Raman
Visits rose 18% on last year, driven by the new study rooms.

Valley Rovers seal promotion with late winner against Ashford
A header in the 89th minute sent 3,200 fans home celebrating the club’s first promotion since 2009.
Sport | Marcus Bell
Manager Lena Kowalski called it “the best night of my career”.

School meals to include more local produce from January
Twelve schools will buy vegetables from valley farms under a three-year contract worth £1.2m.
Education, Food | Dana Whitfield
Parents had asked for fewer processed foods on the menu.

Old mill conversion gets green light despite objections
The plan for 48 flats keeps the 19th-century façade; neighbours had raised concerns about traffic.
Planning, Local | Tom Okafor
Work could begin next summer if funding is confirmed.

Rail works to close Millbrook station for two weekends
Replacement buses will run to Ashford while engineers renew track and signals in November.
Transport | Helen Marsh
Travellers are advised to allow an extra 40 minutes.

Riverside festival draws 20,000 over three days
Organisers say the free event, now in its tenth year, will add a second stage next summer.
Culture, Local | Marcus Bell
Stallholders reported their best weekend since the festival began.

Council proposes 4% rise in household tax to fund road repairs
Consultation opens Monday; the average bill would rise by about £6 a month.
Politics, Local | Dana Whitfield
A final vote is scheduled for February.

New cycle lane on Bridge Road opens ahead of schedule
The 1.4 km protected lane links the station to the university campus.
Transport, Local | Priya Raman
Early counts show 900 riders a day in its first week.

Hospital car park fees scrapped for night-shift staff
The trust says the change, effective immediately, will save nurses up to £400 a year.
Health, Local | Tom Okafor
Unions welcomed the move but asked for it to cover day shifts.

“We’re not going anywhere”: corner shop celebrates 50 years
Three generations of the Nguyen family have run the shop on Elm Row since 1975.
Business, Community | Helen Marsh
Regulars threw a surprise party on Saturday.
"""

# Field Notes: science, served as Atom.
_FIELDNOTES = """
Bees learn faster when flowers are arranged in spirals, study finds
Bumblebees in a lab maze found nectar 30% sooner when artificial flowers followed a spiral pattern.
Biology, Research | Dr. Amara Osei
The authors say the result may help planners design urban meadows.

Why fewer than <1% of meteorites come from Mars
Escaping Mars takes a violent impact, and most ejected rock never crosses Earth’s orbit.
Space, Explainers | Jonas Lindqvist
Only a few hundred Martian meteorites have been identified.

Glacier in the Alps lost a tenth of its ice in a single summer
Survey teams measured record thinning at the Rhône Glacier after two heatwaves.
Climate, Earth | Dr. Amara Osei
Researchers near Zürich compared drone scans with 2019 data.

A cheaper test for Lyme disease passes its first clinical trial
The paper-strip test matched lab results in 94 of 100 samples and costs under $2.
Health, Research | Mei Tanaka
A larger trial across three countries starts next year.

Astronomers spot a planet orbiting two stars at once
The Saturn-sized world circles a pair of red dwarfs 1,300 light-years away.
Space | Jonas Lindqvist
It is only the 15th such circumbinary planet confirmed.

How octopuses taste with their arms
New imaging shows receptors in the suckers sort prey by touch before the brain gets involved.
Biology | Mei Tanaka
Each arm may make some decisions on its own.

Urban trees cool streets by up to 4°C, city-wide sensors show
A network of 600 sensors found shaded blocks stayed cooler long after sunset.
Climate, Cities | Dr. Amara Osei
Planners are using the map to decide where to plant next.

Physicists measure gravity between two tiny gold spheres
The 90-milligram spheres are the smallest masses whose gravitational pull has been detected.
Physics, Research | Ravi Menon
The team hopes to probe how gravity behaves at quantum scales.

Sleep & memory: naps help only if they include deep sleep
Volunteers who reached slow-wave sleep recalled 20% more word pairs after a 90-minute nap.
Health, Brain | Mei Tanaka
Shorter naps brought alertness but no memory gain.

Seagrass meadows store carbon faster than forests, survey suggests
Measurements at 40 coastal sites found burial rates up to three times those of tropical forest.
Climate, Oceans | Ravi Menon
Restoring meadows could be a cheap climate measure.

Solar wind caught reversing direction near the Sun
Probe data show magnetic ‘switchbacks’ that flip the field for minutes at a time.
Space, Physics | Jonas Lindqvist
The finding may explain why the corona is so hot.

Ancient wheat genomes reveal how farming spread into Europe
DNA from 8,000-year-old grains points to two separate routes through the Balkans.
History, Biology | Dr. Amara Osei
Samples came from storage pits at twelve sites.

A battery made from wood pulp survives 1,000 charge cycles
The prototype uses cellulose separators and keeps 91% of its capacity after three months.
Technology, Energy | Ravi Menon
The team is talking to manufacturers about a pilot line.

Why your coffee ring is darker at the edge
Evaporation drags particles outward; a pinch of surfactant reverses the flow.
Physics, Explainers | Mei Tanaka
The same effect matters for printing electronics.
"""

# The Open Ledger: business and technology, served as JSON Feed.
_LEDGER = """
Freight rates fall for a fourth month as ports clear backlogs
Container prices on the main Asia–Europe route are now 35% below their spring peak.
Markets, Trade | Sofia Brandt
Analysts expect stable rates until the holiday season.

Start-up raises $40m to make heat pumps for apartment blocks
The company’s units fit in a window frame and need no outdoor compressor.
Energy, Startups | Leo Haddad
Pilot buildings cut heating bills by a third, the founders say.

Four-day week trial: 45 of 60 firms keep it after a year
Output held steady at most companies, while sick days fell by a quarter.
Work | Nadia Petrov
Firms that dropped the trial cited customer-facing shifts.

Central bank holds rates at 3.5% and signals a cut in spring
Inflation eased to 2.4% in October, the lowest reading in three years.
Economy, Policy | Sofia Brandt
Markets had priced in a small chance of a cut this month.

Open-source database company reaches 1 million installs
The project, started by two engineers in Lisbon, now has 600 contributors.
Technology, Software | Leo Haddad
Its paid cloud service turned profitable this quarter.

Why grocery prices are falling slower than costs
Retailers say long supply contracts delay savings; economists want more price transparency.
Economy, Retail, Explainers | Nadia Petrov
Shoppers have switched to own-brand goods in record numbers.

Chipmaker opens €2bn plant, creating 1,500 jobs
The plant will make power chips for electric cars and wind turbines from 2027.
Technology, Industry | Leo Haddad
Local colleges are adding courses to train technicians.

Airlines add routes as winter bookings beat 2019 levels
Carriers reported 8% more seats sold for December than before the pandemic.
Travel, Markets | Sofia Brandt
Fares remain about 12% higher than in 2019.

Small businesses turn to shared kitchens to cut rent
Food start-ups share equipment and booking software in converted warehouses.
Startups, Food | Nadia Petrov
Operators report waiting lists in most cities.

Wind & solar supplied half the grid’s power in October
A windy month and new solar farms pushed renewables past gas for the first time.
Energy | Leo Haddad
Grid operators warn storage must grow to keep up.

Payments app fined for confusing cancellation flow
Regulators said customers needed nine screens to stop a subscription.
Policy, Technology | Sofia Brandt
The company has promised a one-click cancel button.

Remote workers are moving back to mid-size cities
Census data show towns of 50,000–200,000 people grew fastest last year.
Work, Economy | Nadia Petrov
Cheaper housing and fast broadband are the main draws.

Bike maker recalls 12,000 e-bikes over battery fault
Owners are told to stop charging the affected models and book a free replacement.
Retail, Technology | Leo Haddad
No injuries have been reported, the company said.

Coffee futures hit a 13-year high after poor harvests
Drought in Brazil and Vietnam cut supply; café chains say prices will rise in January.
Markets, Food | Sofia Brandt
Some roasters are switching to blends with more robusta.
"""

STORIES: tuple[Story, ...] = (
    _parse("courier", _COURIER) + _parse("fieldnotes", _FIELDNOTES) + _parse("ledger", _LEDGER)
)


def publication(key: str) -> Publication:
    """The publication with URL prefix `key`; KeyError for an unknown one."""
    for pub in PUBLICATIONS:
        if pub.key == key:
            return pub
    raise KeyError(key)


def stories_of(key: str) -> tuple[Story, ...]:
    return tuple(s for s in STORIES if s.publication == key)
