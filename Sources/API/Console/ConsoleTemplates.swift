import Console
import Foundation
import Shared

/// The console's pages as Mustache templates (swift-mustache), each written once here: `{{ }}` escapes HTML, so
/// a contact's metadata or a callout's name can never become markup. Every string an operator reads is in
/// `ConsoleText` (one catalogue: a translation is a table, not a code change).
enum ConsoleTemplates {
    static let all: [String: String] = [
        "head": head, "foot": foot, "sign_in": signIn, "home": home, "audit": audit, "callout": callout, "confirm": confirm,
        "callouts": callouts, "compose": compose, "numbers": numbers, "import": importResult, "message": message, "stop": stop,
        "settings": settings, "password": password, "accounts": accounts, "second_factor": secondFactor, "security": security,
    ]

    static let head = """
        <!doctype html>
        <html lang="{{text.language}}">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{{title}} · {{text.product}}</title>
        <link rel="stylesheet" href="/console/static/console.css">
        <script src="/console/static/console.js" defer></script>
        </head>
        <body>
        <header class="bar">
          <a class="brand" href="/console">{{text.product}}</a>
          <span class="languages">{{#uiLanguages}}<a href="/console/language/{{code}}" lang="{{code}}">{{name}}</a>{{/uiLanguages}}</span>
          {{#user}}
          <nav aria-label="{{text.navigation}}">
            <a href="/console">{{text.home}}</a>
            <a href="/console/callouts">{{text.callouts}}</a>
            <a href="/console/contacts">{{text.contactsNav}}</a>
            <a href="/console/do_not_call">{{text.doNotCall}}</a>
            <a href="/console/audit">{{text.audit}}</a>
            {{#admin}}<a href="/console/settings">{{text.settings}}</a>{{/admin}}
            {{#superAdmin}}<a href="/console/accounts">{{text.accountsTitle}}</a>{{/superAdmin}}
          </nav>
          {{#actingIn}}
          <form method="post" action="/console/accounts/{{own}}/act" class="acting">
            <input type="hidden" name="csrf_token" value="{{csrf}}">
            <span id="acting-in">{{text.actingIn}} {{account}}</span>
            <button type="submit" id="leave-account">{{text.backToOwnAccount}}</button>
          </form>
          {{/actingIn}}
          <form method="post" action="/console/sign_out" class="sign-out">
            <input type="hidden" name="csrf_token" value="{{csrf}}">
            <a class="who" href="/console/security">{{email}} ({{role}})</a>
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
              {{#stoppable}}{{> stop}}{{/stoppable}}
            </li>
          {{/running}}
          </ul>
        </section>
        {{> foot}}
        """

    /// One callout: its message, where it stands (the live monitor), and the actions the user's role allows.
    static let callout = """
        {{> head}}
        <h1>{{callout.name}}</h1>
        <section class="card">
          <p>{{text.status}}: <strong id="status">{{callout.status}}</strong></p>
          {{#callout.populating}}<p class="note" id="populating">{{text.populating}}</p>{{/callout.populating}}
          {{#actions}}
          <form method="post" action="/console/callouts/{{callout.id}}/events" class="action">
            <input type="hidden" name="csrf_token" value="{{csrf}}">
            <input type="hidden" name="event" value="{{event}}">
            {{#confirmed}}<input type="hidden" name="confirmed" value="yes">{{/confirmed}}
            <button type="submit" id="action-{{event}}">{{label}}</button>
          </form>
          {{/actions}}
          {{^actions}}<p class="empty">{{text.noActions}}</p>{{/actions}}
          <p><a href="/console/callouts/{{callout.id}}/results.csv" id="results">{{text.results}}</a></p>
        </section>
        <section class="card" id="monitor" data-monitor="/console/callouts/{{callout.id}}/monitor" aria-live="polite">
          <h2>{{text.monitorTitle}}</h2>
          <p><span class="figure" id="finished">{{callout.finished}}</span> / <span id="participations">{{callout.participations}}</span>
             {{text.finished}} (<span id="percent">{{callout.percent}}</span> %)</p>
          <div class="outcomes" role="img" aria-label="{{text.outcomes}}">
            {{#monitor.segments}}<span class="segment {{key}}" data-key="{{key}}" data-width="{{width}}"></span>{{/monitor.segments}}
          </div>
          <ul class="legend">
            {{#monitor.segments}}<li><span class="swatch {{key}}"></span>{{label}}: <strong id="count-{{key}}">{{count}}</strong></li>{{/monitor.segments}}
          </ul>
          <div class="totals">
            <div class="total"><span class="figure" id="rate">{{monitor.rate}}</span><span>{{text.callsPerSecond}}</span></div>
            <div class="total"><span class="figure" id="dialled">{{monitor.dialled}}</span><span>{{text.dialled}}</span></div>
            <div class="total"><span class="figure small" id="finish">{{monitor.finish}}</span><span>{{text.finishEstimate}}</span></div>
          </div>
          <p class="reason" id="reason">{{monitor.reason}}</p>
          <canvas id="chart" width="600" height="120" aria-label="{{text.chartLabel}}"></canvas>
          <h3>{{text.latestCalls}}</h3>
          <table class="calls"><thead><tr><th>{{text.number}}</th><th>{{text.status}}</th><th>{{text.when}}</th></tr></thead>
            <tbody id="calls">{{#monitor.calls}}<tr><td>{{msisdn}}</td><td>{{status}}</td><td>{{at}}</td></tr>{{/monitor.calls}}</tbody>
          </table>
        </section>
        <section class="card">
          <h2>{{text.messageLegend}}</h2>
          {{#callout.audio}}<audio controls src="{{callout.audio}}" id="player"></audio>{{/callout.audio}}
          {{^callout.audio}}{{#callout.audioURL}}<p><a href="{{callout.audioURL}}">{{callout.audioURL}}</a></p>{{/callout.audioURL}}{{/callout.audio}}
          {{#callout.message}}<p class="message">{{callout.message}}</p><p class="note">{{callout.voice}} {{callout.language}}</p>{{/callout.message}}
        </section>
        {{> foot}}
        """

    /// The one-click stop of a running callout, on every page that lists it (resume undoes it).
    static let stop = """
        <form method="post" action="/console/callouts/{{id}}/events" class="action stop">
          <input type="hidden" name="csrf_token" value="{{csrf}}">
          <input type="hidden" name="event" value="stop">
          <input type="hidden" name="confirmed" value="yes">
          <button type="submit" class="danger" id="stop-{{id}}">{{text.stop}}</button>
        </form>
        """

    static let callouts = """
        {{> head}}
        <h1>{{text.calloutsTitle}}</h1>
        {{#canCompose}}<p><a class="button" href="/console/callouts/new" id="compose">{{text.newCallout}}</a></p>{{/canCompose}}
        {{^callouts}}<p class="empty">{{text.noCallouts}}</p>{{/callouts}}
        <table class="list">
          <thead><tr><th>{{text.name}}</th><th>{{text.status}}</th><th>{{text.recipients}}</th><th>{{text.createdAt}}</th><th></th></tr></thead>
          <tbody>
          {{#callouts}}
            <tr><td><a href="/console/callouts/{{id}}">{{name}}</a></td><td>{{status}}</td><td>{{participations}}</td>
                <td><time datetime="{{at}}">{{at}}</time></td><td>{{#stoppable}}{{> stop}}{{/stoppable}}</td></tr>
          {{/callouts}}
          </tbody>
        </table>
        {{> foot}}
        """

    /// Composing a broadcast: message, audience (with its live count), policy.
    static let compose = """
        {{> head}}
        <h1>{{text.composeTitle}}</h1>
        {{#hasProblems}}<div class="error" role="alert"><ul>{{#problems}}<li>{{text}}</li>{{/problems}}</ul></div>{{/hasProblems}}
        <section class="card">
          <h2>{{text.recording}}</h2>
          <form data-upload="/console/recordings" data-kind="audio" id="recording-form">
            <input type="hidden" name="csrf_token" value="{{csrf}}">
            <label for="recording-file">{{text.recordingFile}}</label>
            <input id="recording-file" type="file" accept="audio/mpeg,audio/wav,.mp3,.wav" required>
            <button type="submit" id="upload-recording">{{text.upload}}</button>
            <progress max="100" value="0" hidden></progress>
            <p class="error" role="alert" hidden></p>
          </form>
          <audio controls id="recording-player" hidden></audio>
        </section>
        <form method="post" action="/console/callouts" class="card" id="compose-form">
          <input type="hidden" name="csrf_token" value="{{csrf}}">
          <label for="name">{{text.name}}</label>
          <input id="name" name="name" type="text" required maxlength="200" value="{{form.name}}">
          <fieldset>
            <legend>{{text.messageLegend}}</legend>
            <label class="inline"><input type="radio" name="message_kind" value="audio" id="kind-audio"> {{text.recording}}</label>
            <select name="audio_token" id="audio-token" aria-label="{{text.recording}}">
              <option value="">–</option>
              {{#recordings}}<option value="{{token}}">{{filename}}</option>{{/recordings}}
            </select>
            <label class="inline"><input type="radio" name="message_kind" value="text" id="kind-text" checked> {{text.textMessage}}</label>
            <label for="message">{{text.messageText}}</label>
            <textarea id="message" name="message" rows="3" maxlength="4000">{{form.message}}</textarea>
            <label for="voice">{{text.voice}}</label>
            <select id="voice" name="voice">{{#voices}}<option>{{value}}</option>{{/voices}}</select>
            <label for="language">{{text.languageLabel}}</label>
            <select id="language" name="language">{{#languages}}<option>{{value}}</option>{{/languages}}</select>
          </fieldset>
          <fieldset data-count-url="/console/contacts/count">
            <legend>{{text.audienceLegend}}</legend>
            <p class="note">{{text.audienceHelp}}</p>
            <div class="pair"><input name="key" aria-label="{{text.metadataKey}}" placeholder="{{text.metadataKey}}" value="{{form.key}}">
              <input name="value" aria-label="{{text.metadataValue}}" placeholder="{{text.metadataValue}}" value="{{form.value}}"></div>
            <div class="pair"><input name="key_2" aria-label="{{text.metadataKey}}" placeholder="{{text.metadataKey}}" value="{{form.key_2}}">
              <input name="value_2" aria-label="{{text.metadataValue}}" placeholder="{{text.metadataValue}}" value="{{form.value_2}}"></div>
            <div class="pair"><input name="key_3" aria-label="{{text.metadataKey}}" placeholder="{{text.metadataKey}}" value="{{form.key_3}}">
              <input name="value_3" aria-label="{{text.metadataValue}}" placeholder="{{text.metadataValue}}" value="{{form.value_3}}"></div>
            <p>{{text.recipients}}: <strong class="figure" id="recipient-count" aria-live="polite">…</strong></p>
          </fieldset>
          <fieldset>
            <legend>{{text.policyLegend}}</legend>
            <label for="from">{{text.callerID}}</label>
            <input id="from" name="from" type="text" required maxlength="32" value="{{from}}{{form.from}}">
            <label for="max_attempts">{{text.maxAttempts}}</label>
            <input id="max_attempts" name="max_attempts" type="number" min="1" max="10" value="3">
            <label for="retry_minutes">{{text.retryMinutes}}</label>
            <input id="retry_minutes" name="retry_minutes" type="number" min="1" max="1440" value="15">
            <label for="expires_hours">{{text.expiresHours}}</label>
            <input id="expires_hours" name="expires_hours" type="number" min="1" max="720" value="24">
            <label for="hours_start">{{text.hoursStart}}</label>
            <input id="hours_start" name="hours_start" type="time">
            <label for="hours_end">{{text.hoursEnd}}</label>
            <input id="hours_end" name="hours_end" type="time">
            <label class="inline"><input type="checkbox" name="urgent" value="yes" checked> {{text.urgent}}</label>
          </fieldset>
          <button type="submit" id="create">{{text.create}}</button>
        </form>
        {{> foot}}
        """

    /// Contacts or the do-not-call list: search, import, history.
    static let numbers = """
        {{> head}}
        <h1>{{title}}</h1>
        <form method="get" action="{{path}}" class="card search" role="search">
          <label for="msisdn">{{text.msisdnLabel}}</label>
          <input id="msisdn" name="msisdn" type="text" value="{{search.msisdn}}">
          <div class="pair"><input name="key" aria-label="{{text.metadataKey}}" placeholder="{{text.metadataKey}}" value="{{search.key}}">
            <input name="value" aria-label="{{text.metadataValue}}" placeholder="{{text.metadataValue}}" value="{{search.value}}"></div>
          <button type="submit" id="search">{{text.search}}</button>
        </form>
        <p><strong id="total">{{total}}</strong> {{text.matching}}</p>
        <table class="list">
          <thead><tr><th>{{text.msisdnLabel}}</th><th>{{text.fields}}</th></tr></thead>
          <tbody>{{#rows}}<tr><td>{{msisdn}}</td><td>{{metadata}}</td></tr>{{/rows}}</tbody>
        </table>
        <p class="pages">{{#previous}}<a href="{{previous}}">{{text.previous}}</a>{{/previous}} {{#next}}<a href="{{next}}">{{text.next}}</a>{{/next}}</p>
        {{#canImport}}
        <section class="card">
          <h2>{{text.importCSV}}</h2>
          <p class="note">{{text.importHelp}}</p>
          <form data-upload="/console/imports?destination={{destination}}" data-kind="import" id="import-form">
            <input type="hidden" name="csrf_token" value="{{csrf}}">
            <label for="csv-file">{{text.csvFile}}</label>
            <input id="csv-file" type="file" accept=".csv,text/csv" required>
            <button type="submit" id="upload-csv">{{text.upload}}</button>
            <progress max="100" value="0" hidden></progress>
            <p class="error" role="alert" hidden></p>
          </form>
        </section>
        {{/canImport}}
        <section class="card">
          <h2>{{text.importHistory}}</h2>
          <table class="list">
            <thead><tr><th>{{text.when}}</th><th>{{text.file}}</th><th>{{text.lines}}</th><th>{{text.createdCount}}</th><th>{{text.updatedCount}}</th><th>{{text.rejectedCount}}</th></tr></thead>
            <tbody>{{#imports}}<tr><td><a href="/console/imports/{{id}}">{{at}}</a></td><td>{{filename}}</td><td>{{lines}}</td><td>{{created}}</td><td>{{updated}}</td><td>{{rejected}}</td></tr>{{/imports}}</tbody>
          </table>
        </section>
        {{> foot}}
        """

    /// One import's result: its figures and the lines it refused.
    static let importResult = """
        {{> head}}
        <h1>{{text.importTitle}}: {{import.filename}}</h1>
        <section class="card">
          {{#import.failed}}<p class="error" role="alert" id="failure">{{text.importFailed}}: {{import.failure}}</p>{{/import.failed}}
          <p><span id="lines">{{import.lines}}</span> {{text.lines}}, <span id="created">{{import.created}}</span> {{text.createdCount}},
             <span id="updated">{{import.updated}}</span> {{text.updatedCount}}, <strong id="rejected">{{import.rejected}}</strong> {{text.rejectedCount}}</p>
          {{#import.hasErrors}}
          <p><a href="/console/imports/{{import.id}}/errors.csv" id="errors-csv">{{text.downloadErrors}}</a></p>
          <table class="list" id="errors">
            <thead><tr><th>{{text.lineLabel}}</th><th>{{text.errorLabel}}</th></tr></thead>
            <tbody>{{#import.errors}}<tr><td>{{line}}</td><td>{{message}}</td></tr>{{/import.errors}}</tbody>
          </table>
          {{#import.more}}<p class="note">{{text.moreErrors}}</p>{{/import.more}}
          {{/import.hasErrors}}
          <p><a href="{{import.back}}">{{text.back}}</a></p>
        </section>
        {{> foot}}
        """

    /// The account's settings, for admins: provider, limits, people, API tokens.
    static let settings = """
        {{> head}}
        <h1>{{text.settingsTitle}}</h1>
        {{#notice.error}}<p class="error" role="alert" id="notice-error">{{notice.error}}</p>{{/notice.error}}
        {{#notice.link}}<div class="card notice" role="status"><p>{{text.linkMade}} {{notice.for}}:</p>
          <p><code id="notice-link">{{notice.link}}</code></p><p class="note">{{text.linkOnce}}</p></div>{{/notice.link}}
        {{#notice.secret}}<div class="card notice" role="status"><p>{{text.tokenMade}}</p>
          <p><code id="notice-secret">{{notice.secret}}</code></p><p class="note">{{text.tokenOnce}}</p></div>{{/notice.secret}}
        <form method="post" action="/console/settings/provider" class="card">
          <h2>{{text.providerTitle}}</h2>
          <input type="hidden" name="csrf_token" value="{{csrf}}">
          <label for="platform_provider_name">{{text.provider}}</label>
          <select id="platform_provider_name" name="platform_provider_name">
            <option value="">{{text.installationDefault}}</option>
            <option value="twilio"{{#provider.twilio}} selected{{/provider.twilio}}>Twilio</option>
            <option value="somleng"{{#provider.somleng}} selected{{/provider.somleng}}>Somleng</option>
          </select>
          <label for="twilio_account_sid">Twilio account SID</label>
          <input id="twilio_account_sid" name="twilio_account_sid" type="text" value="{{provider.twilioSID}}">
          <label for="twilio_auth_token">Twilio auth token</label>
          <input id="twilio_auth_token" name="twilio_auth_token" type="password" autocomplete="off"
                 placeholder="{{#provider.twilioTokenSet}}{{text.secretSet}}{{/provider.twilioTokenSet}}{{^provider.twilioTokenSet}}{{text.secretNotSet}}{{/provider.twilioTokenSet}}">
          <label for="somleng_account_sid">Somleng account SID</label>
          <input id="somleng_account_sid" name="somleng_account_sid" type="text" value="{{provider.somlengSID}}">
          <label for="somleng_auth_token">Somleng auth token</label>
          <input id="somleng_auth_token" name="somleng_auth_token" type="password" autocomplete="off"
                 placeholder="{{#provider.somlengTokenSet}}{{text.secretSet}}{{/provider.somlengTokenSet}}{{^provider.somlengTokenSet}}{{text.secretNotSet}}{{/provider.somlengTokenSet}}">
          <p class="note">{{text.secretsWriteOnly}}</p>
          <button type="submit" id="save-provider">{{text.save}}</button>
        </form>
        <form method="post" action="/console/settings/limits" class="card">
          <h2>{{text.limitsTitle}}</h2>
          <input type="hidden" name="csrf_token" value="{{csrf}}">
          <label for="rate">{{text.rateLimit}}</label>
          <input id="rate" name="rate" type="number" step="any" min="0.01" value="{{limits.rate}}">
          <label for="concurrent">{{text.concurrencyLimit}}</label>
          <input id="concurrent" name="concurrent" type="number" min="1" value="{{limits.concurrent}}">
          <label for="default-from">{{text.callerID}}</label>
          <input id="default-from" name="from" type="text" maxlength="32" value="{{limits.from}}">
          <label for="attempts">{{text.maxAttempts}}</label>
          <input id="attempts" name="attempts" type="number" min="1" max="10" value="{{limits.attempts}}">
          <p class="note">{{text.emptyIsDefault}}</p>
          <button type="submit" id="save-limits">{{text.save}}</button>
        </form>
        <section class="card">
          <h2>{{text.peopleTitle}}</h2>
          <table class="list" id="users">
            <thead><tr><th>{{text.email}}</th><th>{{text.role}}</th><th>{{text.lastSignIn}}</th><th></th></tr></thead>
            <tbody>{{#users}}<tr><td>{{email}}</td><td>{{role}}{{#disabled}} ({{text.disabled}}){{/disabled}}</td><td>{{signedIn}}</td><td>
              {{^disabled}}
              <form method="post" action="/console/settings/users/{{id}}/reset" class="action"><input type="hidden" name="csrf_token" value="{{csrf}}"><button type="submit">{{text.resetLink}}</button></form>
              {{^self}}<form method="post" action="/console/settings/users/{{id}}/disable" class="action"><input type="hidden" name="csrf_token" value="{{csrf}}"><button type="submit" class="danger">{{text.disable}}</button></form>{{/self}}
              {{/disabled}}
            </td></tr>{{/users}}</tbody>
          </table>
          <form method="post" action="/console/settings/users">
            <input type="hidden" name="csrf_token" value="{{csrf}}">
            <label for="invite-email">{{text.email}}</label>
            <input id="invite-email" name="email" type="email" required>
            <label for="invite-role">{{text.role}}</label>
            <select id="invite-role" name="role">{{#roles}}<option>{{value}}</option>{{/roles}}</select>
            <button type="submit" id="invite">{{text.invite}}</button>
          </form>
        </section>
        <section class="card">
          <h2>{{text.webhooksTitle}}</h2>
          {{#notice.webhookSecret}}<div class="notice" role="status"><p>{{text.webhookSecretMade}}</p>
            <p><code id="notice-webhook-secret">{{notice.webhookSecret}}</code></p><p class="note">{{text.tokenOnce}}</p></div>{{/notice.webhookSecret}}
          <table class="list" id="endpoints">
            <thead><tr><th>URL</th><th>{{text.eventTypes}}</th><th></th></tr></thead>
            <tbody>{{#endpoints}}<tr><td>{{url}}</td><td>{{types}}</td><td>
              <form method="post" action="/console/settings/webhooks/{{id}}/delete" class="action"><input type="hidden" name="csrf_token" value="{{csrf}}"><button type="submit" class="danger">{{text.delete}}</button></form>
            </td></tr>{{/endpoints}}</tbody>
          </table>
          <form method="post" action="/console/settings/webhooks">
            <input type="hidden" name="csrf_token" value="{{csrf}}">
            <label for="webhook-url">URL (https)</label>
            <input id="webhook-url" name="url" type="text" required maxlength="2000">
            <fieldset><legend>{{text.eventTypes}}</legend>
              {{#eventTypes}}<label class="inline"><input type="checkbox" name="type_{{value}}" value="yes"> {{value}}</label> {{/eventTypes}}
              <p class="note">{{text.allEventTypes}}</p>
            </fieldset>
            <button type="submit" id="create-webhook">{{text.addWebhook}}</button>
          </form>
          <h3>{{text.recentDeliveries}}</h3>
          <table class="list" id="deliveries">
            <thead><tr><th>{{text.when}}</th><th>{{text.eventTypes}}</th><th>{{text.status}}</th><th>{{text.attempts}}</th><th>{{text.answer}}</th><th></th></tr></thead>
            <tbody>{{#deliveries}}<tr><td>{{at}}</td><td>{{type}}</td><td>{{status}}</td><td>{{attempts}}</td><td>{{response}}</td><td>
              {{#replayable}}<form method="post" action="/console/settings/deliveries/{{id}}/replay" class="action"><input type="hidden" name="csrf_token" value="{{csrf}}"><button type="submit" id="replay-{{id}}">{{text.replay}}</button></form>{{/replayable}}
            </td></tr>{{/deliveries}}</tbody>
          </table>
        </section>
        <section class="card">
          <h2>{{text.tokensTitle}}</h2>
          <table class="list" id="tokens">
            <thead><tr><th>{{text.name}}</th><th>{{text.tokenStart}}</th><th>{{text.scope}}</th><th>{{text.createdAt}}</th><th>{{text.lastUsed}}</th><th></th></tr></thead>
            <tbody>{{#tokens}}<tr><td>{{name}}</td><td><code>{{prefix}}…</code></td><td>{{scope}}</td><td>{{at}}</td><td>{{used}}</td><td>
              {{#revoked}}{{text.revoked}}{{/revoked}}{{^revoked}}<form method="post" action="/console/settings/tokens/{{id}}/revoke" class="action"><input type="hidden" name="csrf_token" value="{{csrf}}"><button type="submit" class="danger">{{text.revoke}}</button></form>{{/revoked}}
            </td></tr>{{/tokens}}</tbody>
          </table>
          <form method="post" action="/console/settings/tokens">
            <input type="hidden" name="csrf_token" value="{{csrf}}">
            <label for="token-name">{{text.name}}</label>
            <input id="token-name" name="name" type="text" maxlength="100">
            <label for="token-scope">{{text.scope}}</label>
            <select id="token-scope" name="scope"><option value="read_write">read_write</option><option value="read_only">read_only</option></select>
            <button type="submit" id="create-token">{{text.createToken}}</button>
          </form>
        </section>
        {{> foot}}
        """

    /// Setting a password from an invitation or reset link.
    static let password = """
        {{> head}}
        <section class="card narrow">
          <h1>{{text.setPassword}}</h1>
          {{#email}}<p>{{email}}</p>{{/email}}
          {{#error}}<p class="error" role="alert">{{error}}</p>{{/error}}
          <form method="post" action="/console/password/{{token}}">
            <input type="hidden" name="csrf_token" value="{{csrf}}">
            <label for="password">{{text.newPassword}}</label>
            <input id="password" name="password" type="password" autocomplete="new-password" minlength="12" required autofocus>
            <label for="confirmation">{{text.repeatPassword}}</label>
            <input id="confirmation" name="confirmation" type="password" autocomplete="new-password" minlength="12" required>
            <button type="submit" id="set-password">{{text.setPassword}}</button>
          </form>
        </section>
        {{> foot}}
        """

    /// The code asked for after the password when the user's second factor is on.
    static let secondFactor = """
        {{> head}}
        <section class="card narrow">
          <h1>{{text.secondFactorTitle}}</h1>
          {{#error}}<p class="error" role="alert">{{error}}</p>{{/error}}
          <form method="post" action="/console/second_factor">
            <input type="hidden" name="csrf_token" value="{{csrf}}">
            <label for="code">{{text.codeLabel}}</label>
            <input id="code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9 ]{6,7}" required autofocus>
            <button type="submit" id="verify">{{text.verify}}</button>
          </form>
        </section>
        {{> foot}}
        """

    /// The user's own security: turning the second factor on (secret, address, confirmation) or off.
    static let security = """
        {{> head}}
        <h1>{{text.securityTitle}}</h1>
        {{#notice}}<p class="note" role="status" id="notice">{{notice}}</p>{{/notice}}
        <section class="card">
          <h2>{{text.secondFactorTitle}}</h2>
          {{#enabled}}
          <p id="second-factor-state">{{text.secondFactorIsOn}}</p>
          <form method="post" action="/console/security">
            <input type="hidden" name="csrf_token" value="{{csrf}}"><input type="hidden" name="action" value="disable">
            <label for="disable-code">{{text.codeLabel}}</label>
            <input id="disable-code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" required>
            <button type="submit" class="danger" id="disable-second-factor">{{text.turnOff}}</button>
          </form>
          {{/enabled}}
          {{^enabled}}
          {{#pending}}
          <p>{{text.secondFactorSetup}}</p>
          <p><code id="totp-secret">{{secret}}</code></p>
          <p class="note"><code id="totp-uri">{{uri}}</code></p>
          <form method="post" action="/console/security">
            <input type="hidden" name="csrf_token" value="{{csrf}}"><input type="hidden" name="action" value="confirm">
            <label for="confirm-code">{{text.codeLabel}}</label>
            <input id="confirm-code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" required>
            <button type="submit" id="confirm-second-factor">{{text.turnOn}}</button>
          </form>
          {{/pending}}
          {{^pending}}
          <p id="second-factor-state">{{text.secondFactorIsOff}}</p>
          <form method="post" action="/console/security">
            <input type="hidden" name="csrf_token" value="{{csrf}}"><input type="hidden" name="action" value="begin">
            <button type="submit" id="begin-second-factor">{{text.setUp}}</button>
          </form>
          {{/pending}}
          {{/enabled}}
        </section>
        {{> foot}}
        """

    /// Every account, for a super admin to act in.
    static let accounts = """
        {{> head}}
        <h1>{{text.accountsTitle}}</h1>
        <table class="list" id="accounts">
          <thead><tr><th>#</th><th>{{text.name}}</th><th>{{text.runningCallouts}}</th><th></th></tr></thead>
          <tbody>{{#accounts}}<tr><td>{{id}}</td><td>{{name}}</td><td>{{running}}</td><td>
            {{^current}}<form method="post" action="/console/accounts/{{id}}/act" class="action"><input type="hidden" name="csrf_token" value="{{csrf}}"><button type="submit" id="act-{{id}}">{{text.actIn}}</button></form>{{/current}}
            {{#current}}<strong>{{text.currentAccount}}</strong>{{/current}}
          </td></tr>{{/accounts}}</tbody>
        </table>
        {{> foot}}
        """

    static let message = """
        {{> head}}
        <section class="card narrow"><h1>{{title}}</h1><p>{{message}}</p><p><a href="/console">{{text.home}}</a></p></section>
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
        .languages { display: flex; gap: .5rem; font-size: .9rem; }
        .acting { display: flex; gap: .5rem; align-items: center; background: #7a4d00; padding: .25rem .5rem; border-radius: 6px; }
        .acting button { margin: 0; }
        nav { display: flex; flex-wrap: wrap; gap: .5rem 1rem; }
        .sign-out { display: flex; gap: .5rem; align-items: center; }
        .who { color: #cfd6dd; font-size: .9rem; }
        .bar a.who { color: #cfd6dd; }
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
        .button { display: inline-block; padding: .55rem 1rem; border-radius: 6px; background: var(--accent); color: #fff; text-decoration: none; }
        .danger { background: #8c1d18; }
        .stop button { margin: 0; }
        .note { color: var(--muted); }
        .reason { font-weight: 600; color: #7a4d00; }
        fieldset { border: 1px solid var(--line); border-radius: 8px; margin: 1rem 0; padding: .5rem 1rem 1rem; }
        legend { font-weight: 700; padding: 0 .25rem; }
        label.inline { display: inline-flex; gap: .4rem; align-items: center; font-weight: 400; }
        .pair { display: grid; grid-template-columns: 1fr 1fr; gap: .5rem; margin-top: .5rem; }
        input, select, textarea { font: inherit; }
        textarea, select, input[type=number], input[type=time], .pair input { width: 100%; padding: .5rem; border: 1px solid var(--line); border-radius: 6px; }
        .outcomes { display: flex; height: 1.5rem; border-radius: 6px; overflow: hidden; background: var(--wash); border: 1px solid var(--line); }
        .segment { display: block; height: 100%; width: 0; }
        .answered { background: #1e7d32; } .exhausted { background: #b3261e; } .do_not_call { background: #6d4c41; }
        .expired { background: #757575; } .retrying { background: #f9a825; } .waiting { background: #90a4ae; }
        .legend { list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: .25rem 1rem; }
        .swatch { display: inline-block; width: .8rem; height: .8rem; border-radius: 2px; margin-right: .3rem; }
        .figure.small { font-size: 1rem; }
        code { overflow-wrap: anywhere; }
        .notice { border-color: #1e7d32; }
        .action button { margin-top: .25rem; }
        canvas { width: 100%; max-width: 600px; height: 120px; border: 1px solid var(--line); border-radius: 6px; background: #fff; }
        @media (max-width: 40rem) {
          .list thead { display: none; }
          .list td { display: block; border: 0; padding: .1rem .5rem; }
          .list tr { display: block; border-bottom: 1px solid var(--line); padding: .5rem 0; }
          .callouts li { grid-template-columns: 1fr; }
          .audit thead { display: none; }
          .audit td { display: block; border: 0; padding: .1rem .5rem; }
          .audit tr { display: block; border-bottom: 1px solid var(--line); padding: .5rem 0; }
        }
        """
}

/// Every string of the console, in one place (English). A translation is another instance of this table.
struct ConsoleText: Sendable, Codable {
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
    var callouts = "Callouts"
    var contactsNav = "Contacts"
    var doNotCall = "Do not call"
    var contactsTitle = "Contacts"
    var doNotCallTitle = "Do-not-call list"
    var search = "Search"
    var msisdnLabel = "Phone number"
    var metadataKey = "Field (e.g. province)"
    var metadataValue = "Value"
    var fields = "Fields"
    var matching = "matching"
    var next = "Next page"
    var previous = "Previous page"
    var importTitle = "Import"
    var importCSV = "Import a CSV file"
    var importHelp =
        "The first line names the columns: msisdn, and any fields you like (province, district, language…). A number already here gets the new fields."
    var csvFile = "CSV file"
    var file = "File"
    var upload = "Upload"
    var importHistory = "Recent imports"
    var lines = "lines"
    var createdCount = "created"
    var updatedCount = "updated"
    var rejectedCount = "refused"
    var downloadErrors = "Download the refused lines (CSV)"
    var lineLabel = "Line"
    var errorLabel = "Why it was refused"
    var moreErrors = "Only the first 200 are shown here; the download holds up to 1,000."
    var importFailed = "Nothing was imported"
    var fileTooLarge = "The file is too large."
    var uploadFailed = "The upload failed."
    var back = "Back"
    var calloutsTitle = "Callouts"
    var newCallout = "Compose a callout"
    var noCallouts = "No callout yet."
    var name = "Name"
    var recipients = "Recipients"
    var createdAt = "Created"
    var composeTitle = "Compose a callout"
    var messageLegend = "Message"
    var recording = "A recorded message"
    var recordingFile = "Recording (MP3 or WAV, up to 10 MB)"
    var textMessage = "A text, spoken to each person"
    var messageText = "Text"
    var voice = "Voice"
    var languageLabel = "Language"
    var audienceLegend = "Audience"
    var audienceHelp = "The contacts whose fields match all of these; leave them empty to call every contact."
    var policyLegend = "Calling policy"
    var callerID = "Caller ID (the number people see)"
    var maxAttempts = "Calls per person, at most"
    var retryMinutes = "Minutes between attempts"
    var expiresHours = "Stop trying after (hours)"
    var hoursStart = "Call from (empty: any hour)"
    var hoursEnd = "Call until"
    var urgent = "Urgent: call at any hour, whatever the calling hours"
    var create = "Create the callout"
    var nameRequired = "Give the callout a name."
    var recordingRequired = "Upload a recording, or choose one, for a recorded message."
    var messageRequired = "Write the text to speak (up to 4,000 characters)."
    var callerIDRequired = "Give the caller ID."
    var policyOutOfRange = "The calling policy has a value out of range."
    var noRecipients = "No contact matches the audience."
    var populating = "Adding the audience's contacts…"
    var results = "Download the results (CSV)"
    var monitorTitle = "Live"
    var outcomes = "Outcomes"
    var callsPerSecond = "calls per second"
    var dialled = "calls made"
    var finishEstimate = "estimated finish"
    var chartLabel = "Calls per second, the last minutes"
    var latestCalls = "Latest calls"
    var number = "Number"
    var securityTitle = "Your sign-in"
    var secondFactorTitle = "Second factor"
    var codeLabel = "The 6-digit code of your authenticator app"
    var verify = "Verify"
    var wrongCode = "That code is not right (or was used already)."
    var secondFactorOn = "The second factor is on: signing in asks for a code."
    var secondFactorOff = "The second factor is off."
    var secondFactorIsOn = "On: signing in asks for a code from your app."
    var secondFactorIsOff = "Off: signing in asks for your password only."
    var secondFactorSetup = "Add this key to an authenticator app (or open the address below on your phone), then type the code it shows."
    var turnOn = "Turn on"
    var turnOff = "Turn off"
    var setUp = "Set up a second factor"
    var webhooksTitle = "Webhooks"
    var webhookSecretMade = "The endpoint's signing secret:"
    var eventTypes = "Events"
    var allEventTypes = "None ticked: every event."
    var addWebhook = "Add the endpoint"
    var delete = "Delete"
    var recentDeliveries = "Recent deliveries"
    var attempts = "Attempts"
    var answer = "Answer"
    var replay = "Send again"
    var accountsTitle = "Accounts"
    var actIn = "Act in this account"
    var currentAccount = "current"
    var actingIn = "Acting in account"
    var backToOwnAccount = "Back to my account"
    var settings = "Settings"
    var settingsTitle = "Settings"
    var providerTitle = "Telephony provider"
    var provider = "Provider"
    var installationDefault = "The installation's default"
    var secretSet = "set: leave empty to keep it"
    var secretNotSet = "not set"
    var secretsWriteOnly = "Auth tokens are stored encrypted and never shown again; a new one replaces the old."
    var save = "Save"
    var limitsTitle = "Limits and calling defaults"
    var rateLimit = "Calls per second at most"
    var concurrencyLimit = "Calls at once at most"
    var emptyIsDefault = "An empty field takes the installation's default."
    var peopleTitle = "People"
    var role = "Role"
    var lastSignIn = "Last sign-in"
    var disabled = "disabled"
    var resetLink = "Password reset link"
    var disable = "Disable"
    var invite = "Invite"
    var linkMade = "Send this link to"
    var linkOnce = "It is shown once, works once, and expires in 72 hours."
    var tokensTitle = "API access tokens"
    var tokenStart = "Starts with"
    var scope = "Scope"
    var lastUsed = "Last used"
    var revoked = "revoked"
    var revoke = "Revoke"
    var createToken = "Create a token"
    var tokenMade = "The new token:"
    var tokenOnce = "Copy it now: it is not shown again (only its digest is kept)."
    var setPassword = "Set your password"
    var newPassword = "New password (at least 12 characters)"
    var repeatPassword = "The same again"
    var passwordsDiffer = "The two passwords differ."
    var linkInvalid = "This link is not valid: it was used, it expired, or it never existed."
    var start = "Start calling"
    var pause = "Pause"
    var resume = "Resume"
    var stop = "Stop"
    var confirmStart = "Start this callout?"
    var confirmStartDetail = "It calls {people} people, now or as its calling hours allow."
    var confirmPause = "Pause this callout?"
    var confirmPauseDetail = "No one more is called until it resumes; {people} people are waiting."
    var confirmResume = "Resume this callout?"
    var confirmResumeDetail = "Calling goes on for the {people} people still waiting."
    var confirmStop = "Stop this callout?"
    var confirmStopDetail = "The {people} people still waiting are not called."
    var outcomeAnswered = "answered"
    var outcomeExhausted = "no answer after every attempt"
    var outcomeDoNotCall = "do not call"
    var outcomeExpired = "expired"
    var outcomeRetrying = "waiting for a retry"
    var outcomeWaiting = "not called yet"
    var reasonNotStarted = "Not started."
    var reasonPaused = "Paused: no one more is called until it resumes."
    var reasonStopped = "Stopped."
    var reasonOutsideCallingHours = "Outside calling hours: calling goes on when they open."
    var reasonWaitingForRetries = "Waiting for retries."
    var reasonConcurrencyCap = "At the account's limit of calls at once: the next call starts when one ends."
    var reasonRateLimit = "Slowed down: the provider asked for fewer calls per second."
    var reasonWaitingForCalls = "Preparing calls…"
    var languageName = "English"

    /// The question and its consequence for an event, naming how many people it concerns.
    func confirmation(_ event: String, people: Int64) -> (question: String, consequence: String) {
        let (question, detail): (String, String) =
            switch event {
            case "start": (confirmStart, confirmStartDetail)
            case "pause": (confirmPause, confirmPauseDetail)
            case "resume": (confirmResume, confirmResumeDetail)
            default: (confirmStop, confirmStopDetail)
            }
        return (question, detail.replacingOccurrences(of: "{people}", with: String(people)))
    }

    /// The name of an outcome in the monitor's bar.
    func outcome(_ key: String) -> String {
        switch key {
        case "answered": outcomeAnswered
        case "exhausted": outcomeExhausted
        case "do_not_call": outcomeDoNotCall
        case "expired": outcomeExpired
        case "retrying": outcomeRetrying
        default: outcomeWaiting
        }
    }

    /// Why a callout is not dialling, in words (the next retry's time after it, when known).
    func reason(_ reason: CalloutMonitor.Reason, nextRetryAt: Date?) -> String {
        switch reason {
        case .notStarted: reasonNotStarted
        case .paused: reasonPaused
        case .stopped: reasonStopped
        case .outsideCallingHours: reasonOutsideCallingHours
        case .waitingForRetries: reasonWaitingForRetries + (nextRetryAt.map { " \(Timestamp.iso8601($0))" } ?? "")
        case .concurrencyCap: reasonConcurrencyCap
        case .rateLimit: reasonRateLimit
        case .waitingForCalls: reasonWaitingForCalls
        }
    }

    /// The translations shipped in `Translations/<language>.json` (a table of these names; a name it leaves
    /// out stays English), by language code, English included.
    static let catalogues: [String: ConsoleText] = {
        var catalogues = ["en": ConsoleText()]
        guard let folder = Bundle.module.url(forResource: "Translations", withExtension: nil),
            let files = try? FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)
        else { return catalogues }
        for file in files where file.pathExtension == "json" {
            guard let data = try? Data(contentsOf: file), let text = try? ConsoleText(translation: data) else { continue }
            catalogues[file.deletingPathExtension().lastPathComponent] = text
        }
        return catalogues
    }()

    /// English with a translation's strings over it.
    init(translation data: Data) throws {
        let english = try JSONSerialization.jsonObject(with: JSONEncoder().encode(ConsoleText())) as? [String: Any] ?? [:]
        let translated = try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
        let merged = english.merging(translated.filter { english[$0.key] is String && $0.value is String }) { $1 }
        self = try JSONDecoder().decode(ConsoleText.self, from: JSONSerialization.data(withJSONObject: merged))
    }

    init() {}

    /// The catalogue of the request being answered (set per request by the console's routes).
    @TaskLocal static var current = ConsoleText()

    /// The language a request asks for: the `scfm_lang` cookie, else the first of Accept-Language's languages
    /// that has a catalogue, else English.
    static func choose(cookie: String?, acceptLanguage: String?) -> ConsoleText {
        if let cookie, let text = catalogues[cookie] { return text }
        for part in (acceptLanguage ?? "").split(separator: ",").prefix(10) {
            let code = part.split(separator: ";")[0].trimmingCharacters(in: .whitespaces).lowercased()
            let base = String(code.split(separator: "-").first ?? "")
            if let text = catalogues[base] { return text }
        }
        return catalogues["en"]!
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
