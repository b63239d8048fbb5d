/// The console's pages as Mustache templates (swift-mustache), each written once here: `{{ }}` escapes HTML, so
/// a contact's metadata or a callout's name can never become markup. Every string an operator reads is in
/// `ConsoleText` (one catalogue: a translation is a table, not a code change).
enum ConsoleTemplates {
    static let all: [String: String] = [
        "head": head, "foot": foot, "sign_in": signIn, "home": home, "audit": audit, "callout": callout, "confirm": confirm,
    ]

    static let head = """
        <!doctype html>
        <html lang="{{text.language}}">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{{title}} · {{text.product}}</title>
        <link rel="stylesheet" href="/console/static/console.css">
        </head>
        <body>
        <header class="bar">
          <a class="brand" href="/console">{{text.product}}</a>
          {{#user}}
          <nav aria-label="{{text.navigation}}">
            <a href="/console">{{text.home}}</a>
            <a href="/console/audit">{{text.audit}}</a>
          </nav>
          <form method="post" action="/console/sign_out" class="sign-out">
            <input type="hidden" name="csrf_token" value="{{csrf}}">
            <span class="who">{{email}} ({{role}})</span>
            <button type="submit">{{text.signOut}}</button>
          </form>
          {{/user}}
        </header>
        <main id="main">
        """

    static let foot = """
        </main>
        </body>
        </html>
        """

    static let signIn = """
        {{> head}}
        <section class="card narrow">
          <h1>{{text.signInTitle}}</h1>
          {{#error}}<p class="error" role="alert">{{error}}</p>{{/error}}
          <form method="post" action="/console/sign_in">
            <input type="hidden" name="csrf_token" value="{{csrf}}">
            <label for="email">{{text.email}}</label>
            <input id="email" name="email" type="email" autocomplete="username" required value="{{email}}" autofocus>
            <label for="password">{{text.password}}</label>
            <input id="password" name="password" type="password" autocomplete="current-password" required>
            <button type="submit">{{text.signIn}}</button>
          </form>
        </section>
        {{> foot}}
        """

    static let home = """
        {{> head}}
        <h1>{{text.homeTitle}}</h1>
        <section class="totals" aria-label="{{text.totals}}">
          <div class="total"><span class="figure" id="contacts">{{totals.contacts}}</span><span>{{text.contacts}}</span></div>
          <div class="total"><span class="figure" id="running">{{totals.running}}</span><span>{{text.runningCallouts}}</span></div>
          <div class="total"><span class="figure" id="calls-today">{{totals.callsToday}}</span><span>{{text.callsToday}}</span></div>
          <div class="total"><span class="figure" id="answer-rate">{{totals.answerRate}}</span><span>{{text.answerRate}}</span></div>
        </section>
        <section class="card">
          <h2>{{text.runningCallouts}}</h2>
          {{^running}}<p class="empty">{{text.noRunningCallouts}}</p>{{/running}}
          <ul class="callouts">
          {{#running}}
            <li>
              <a class="name" href="/console/callouts/{{id}}">{{name}}</a>
              <progress max="100" value="{{percent}}" aria-label="{{name}}">{{percent}} %</progress>
              <span class="figure">{{finished}} / {{participations}}</span>
            </li>
          {{/running}}
          </ul>
        </section>
        {{> foot}}
        """

    /// One callout: where it stands, and the actions the user's role allows from its state.
    static let callout = """
        {{> head}}
        <h1>{{callout.name}}</h1>
        <section class="card">
          <p>{{text.status}}: <strong id="status">{{callout.status}}</strong></p>
          <p><span class="figure">{{callout.finished}} / {{callout.participations}}</span> {{text.finished}}</p>
          <progress max="100" value="{{callout.percent}}" aria-label="{{callout.name}}">{{callout.percent}} %</progress>
          {{#actions}}
          <form method="post" action="/console/callouts/{{callout.id}}/events" class="action">
            <input type="hidden" name="csrf_token" value="{{csrf}}">
            <input type="hidden" name="event" value="{{event}}">
            <button type="submit" id="action-{{event}}">{{label}}</button>
          </form>
          {{/actions}}
          {{^actions}}<p class="empty">{{text.noActions}}</p>{{/actions}}
        </section>
        {{> foot}}
        """

    /// The confirmation every action asks for, naming how many people it concerns (no script: a second form).
    static let confirm = """
        {{> head}}
        <section class="card narrow">
          <h1>{{question}}</h1>
          <p>{{consequence}}</p>
          <form method="post" action="/console/callouts/{{calloutID}}/events">
            <input type="hidden" name="csrf_token" value="{{csrf}}">
            <input type="hidden" name="event" value="{{event}}">
            <input type="hidden" name="confirmed" value="yes">
            <button type="submit" id="confirm">{{label}}</button>
          </form>
          <p><a href="/console/callouts/{{calloutID}}">{{text.cancel}}</a></p>
        </section>
        {{> foot}}
        """

    static let audit = """
        {{> head}}
        <h1>{{text.auditTitle}}</h1>
        <table class="audit">
          <thead><tr><th>{{text.when}}</th><th>{{text.who}}</th><th>{{text.what}}</th><th>{{text.subject}}</th><th>{{text.from}}</th></tr></thead>
          <tbody>
          {{#events}}
            <tr><td><time datetime="{{at}}">{{at}}</time></td><td>{{actor}}</td><td>{{action}}</td><td>{{subject}}</td><td>{{address}}</td></tr>
          {{/events}}
          </tbody>
        </table>
        {{> foot}}
        """

    static let stylesheet = """
        :root { --ink: #1b1f24; --muted: #5b6470; --line: #d7dce2; --accent: #b3261e; --paper: #ffffff; --wash: #f4f6f8; }
        * { box-sizing: border-box; }
        body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: var(--wash); }
        .bar { display: flex; flex-wrap: wrap; gap: 1rem; align-items: center; padding: .75rem 1rem; background: var(--ink); color: #fff; }
        .bar a { color: #fff; text-decoration: none; }
        .bar a:focus, button:focus, input:focus { outline: 3px solid #ffb4ab; outline-offset: 2px; }
        .brand { font-weight: 700; margin-right: auto; }
        nav { display: flex; gap: 1rem; }
        .sign-out { display: flex; gap: .5rem; align-items: center; }
        .who { color: #cfd6dd; font-size: .9rem; }
        main { max-width: 64rem; margin: 0 auto; padding: 1rem; }
        .card { background: var(--paper); border: 1px solid var(--line); border-radius: 8px; padding: 1rem 1.25rem; margin: 1rem 0; }
        .narrow { max-width: 24rem; margin: 3rem auto; }
        form label { display: block; margin-top: .75rem; font-weight: 600; }
        input[type=email], input[type=password], input[type=text] { width: 100%; padding: .6rem; font: inherit; border: 1px solid var(--line); border-radius: 6px; }
        button { margin-top: 1rem; padding: .55rem 1rem; font: inherit; border: 0; border-radius: 6px; background: var(--accent); color: #fff; cursor: pointer; }
        .bar button { margin: 0; background: transparent; border: 1px solid #fff; }
        .error { color: var(--accent); font-weight: 600; }
        .totals { display: grid; grid-template-columns: repeat(auto-fit, minmax(10rem, 1fr)); gap: 1rem; }
        .total { background: var(--paper); border: 1px solid var(--line); border-radius: 8px; padding: 1rem; display: flex; flex-direction: column; }
        .figure { font-size: 1.6rem; font-weight: 700; font-variant-numeric: tabular-nums; }
        .callouts { list-style: none; padding: 0; }
        .action { display: inline-block; margin-right: .5rem; }
        .callouts li { display: grid; grid-template-columns: 1fr 2fr auto; gap: 1rem; align-items: center; padding: .5rem 0; border-bottom: 1px solid var(--line); }
        progress { width: 100%; height: 1rem; }
        .empty { color: var(--muted); }
        table { width: 100%; border-collapse: collapse; background: var(--paper); }
        th, td { text-align: left; padding: .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
        @media (max-width: 40rem) {
          .callouts li { grid-template-columns: 1fr; }
          .audit thead { display: none; }
          .audit td { display: block; border: 0; padding: .1rem .5rem; }
          .audit tr { display: block; border-bottom: 1px solid var(--line); padding: .5rem 0; }
        }
        """
}

/// Every string of the console, in one place (English). A translation is another instance of this table.
struct ConsoleText: Sendable {
    var language = "en"
    var product = "SCFM console"
    var navigation = "Main"
    var home = "Home"
    var audit = "Audit trail"
    var signIn = "Sign in"
    var signOut = "Sign out"
    var signInTitle = "Sign in to the alert console"
    var email = "Email"
    var password = "Password"
    var wrongCredentials = "The email or the password is wrong."
    var tooManyAttempts = "Too many failed sign-ins for this email: try again in 15 minutes."
    var formExpired = "The form expired. Please sign in again."
    var homeTitle = "Overview"
    var totals = "Totals"
    var contacts = "contacts"
    var runningCallouts = "Running callouts"
    var noRunningCallouts = "No callout is running."
    var callsToday = "calls today"
    var answerRate = "answered today"
    var auditTitle = "Audit trail"
    var when = "When"
    var who = "Who"
    var what = "What"
    var subject = "Subject"
    var from = "From"
    var status = "Status"
    var finished = "participants finished"
    var noActions = "Nothing to do here with your role."
    var cancel = "Cancel"
    var notAllowed = "Your role cannot do that."
    var start = "Start calling"
    var pause = "Pause"
    var resume = "Resume"
    var stop = "Stop"
    /// The question and its consequence for an event, naming how many people it concerns.
    func confirmation(_ event: String, people: Int64) -> (question: String, consequence: String) {
        switch event {
        case "start": ("Start this callout?", "It calls \(people) people, now or as its calling hours allow.")
        case "pause": ("Pause this callout?", "No one more is called until it resumes; \(people) people are waiting.")
        case "resume": ("Resume this callout?", "Calling goes on for the \(people) people still waiting.")
        default: ("Stop this callout?", "The \(people) people still waiting are not called.")
        }
    }

    /// As the templates read it: every string of the table, by its name.
    var values: [String: String] {
        var values: [String: String] = [:]
        for child in Mirror(reflecting: self).children {
            if let name = child.label, let text = child.value as? String { values[name] = text }
        }
        return values
    }
}
