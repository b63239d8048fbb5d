/// The console's one script, served at `/console/static/console.js` (the Content-Security-Policy allows this
/// origin's scripts only: no inline script, no inline style). Every page works without it except what needs a
/// script: uploads with a progress bar (the file is sent as the request body with the form's CSRF token in
/// `X-CSRF-Token`), the compose page's live recipient count, and the callout's live monitor (an EventSource on
/// `/console/callouts/:id/monitor`).
enum ConsoleScript {
    static let source = #"""
        "use strict";
        (function () {
          function upload(form) {
            var input = form.querySelector("input[type=file]");
            var bar = form.querySelector("progress");
            var alert = form.querySelector("[role=alert]");
            var file = input.files[0];
            if (!file) { return; }
            var request = new XMLHttpRequest();
            request.open("POST", form.getAttribute("data-upload"));
            request.setRequestHeader("X-CSRF-Token", form.querySelector("input[name=csrf_token]").value);
            request.setRequestHeader("X-Filename", encodeURIComponent(file.name));
            request.setRequestHeader("Content-Type", file.type || "application/octet-stream");
            bar.hidden = false; bar.value = 0; alert.hidden = true;
            request.upload.onprogress = function (event) {
              if (event.lengthComputable) { bar.value = Math.round(event.loaded * 100 / event.total); }
            };
            request.onload = function () {
              var answer = {};
              try { answer = JSON.parse(request.responseText); } catch (ignored) {}
              if (request.status >= 200 && request.status < 300) {
                bar.value = 100;
                if (answer.location) { window.location.assign(answer.location); return; }
                if (form.getAttribute("data-kind") === "audio") { recordingUploaded(answer); }
              } else {
                alert.textContent = answer.error || ("HTTP " + request.status);
                alert.hidden = false;
              }
            };
            request.onerror = function () { alert.textContent = "Network error"; alert.hidden = false; };
            request.send(file);
          }

          function recordingUploaded(answer) {
            var select = document.getElementById("audio-token");
            var option = document.createElement("option");
            option.value = answer.token; option.textContent = answer.filename;
            select.appendChild(option); select.value = answer.token;
            document.getElementById("kind-audio").checked = true;
            var player = document.getElementById("recording-player");
            player.src = answer.path; player.hidden = false;
          }

          function liveCount(fieldset) {
            var target = document.getElementById("recipient-count");
            var timer = null;
            function refresh() {
              var query = new URLSearchParams();
              fieldset.querySelectorAll("input").forEach(function (input) { if (input.value) { query.set(input.name, input.value); } });
              fetch(fieldset.getAttribute("data-count-url") + "?" + query.toString(), { credentials: "same-origin" })
                .then(function (response) { return response.json(); })
                .then(function (answer) { if (typeof answer.count === "number") { target.textContent = answer.count.toLocaleString(); } });
            }
            fieldset.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(refresh, 250); });
            refresh();
          }

          function setWidths(root) {
            root.querySelectorAll(".segment[data-width]").forEach(function (segment) {
              segment.style.width = segment.getAttribute("data-width") + "%";
            });
          }

          function monitor(section) {
            var rates = [];
            var chart = document.getElementById("chart");
            function text(id, value) { var element = document.getElementById(id); if (element) { element.textContent = value; } }
            function draw() {
              if (!chart.getContext) { return; }
              var context = chart.getContext("2d");
              var width = chart.width, height = chart.height;
              context.clearRect(0, 0, width, height);
              var top = Math.max(1, Math.max.apply(null, rates));
              context.strokeStyle = "#b3261e"; context.lineWidth = 2; context.beginPath();
              rates.forEach(function (rate, index) {
                var x = index * width / Math.max(59, rates.length - 1);
                var y = height - 4 - (rate / top) * (height - 8);
                if (index === 0) { context.moveTo(x, y); } else { context.lineTo(x, y); }
              });
              context.stroke();
              context.fillStyle = "#5b6470"; context.fillText(top.toFixed(1) + "/s", 4, 12);
            }
            var source = new EventSource(section.getAttribute("data-monitor"));
            source.onmessage = function (event) {
              var data = JSON.parse(event.data);
              var total = Math.max(1, data.participations);
              ["answered", "exhausted", "do_not_call", "expired", "retrying", "waiting"].forEach(function (key) {
                var segment = section.querySelector(".segment[data-key=" + key + "]");
                if (segment) { segment.style.width = (data[key] * 100 / total) + "%"; }
                text("count-" + key, data[key]);
              });
              text("finished", data.participations - data.remaining);
              text("participations", data.participations);
              text("percent", data.percent);
              text("rate", data.calls_per_second);
              text("dialled", data.dialled);
              text("finish", data.estimated_finish_at || "–");
              text("reason", data.reason_text || "");
              text("status", data.callout_status);
              var populating = document.getElementById("populating");
              if (populating && data.participations > 0) { populating.hidden = true; }
              var body = document.getElementById("calls");
              if (body) {
                body.textContent = "";
                data.calls.forEach(function (call) {
                  var row = document.createElement("tr");
                  [call.msisdn, call.status, call.updated_at].forEach(function (value) {
                    var cell = document.createElement("td"); cell.textContent = value; row.appendChild(cell);
                  });
                  body.appendChild(row);
                });
              }
              rates.push(data.calls_per_second); if (rates.length > 300) { rates.shift(); }
              draw();
            };
          }

          document.addEventListener("DOMContentLoaded", function () {
            document.querySelectorAll("form[data-upload]").forEach(function (form) {
              form.addEventListener("submit", function (event) { event.preventDefault(); upload(form); });
            });
            document.querySelectorAll("[data-count-url]").forEach(liveCount);
            setWidths(document);
            document.querySelectorAll("[data-monitor]").forEach(monitor);
          });
        })();
        """#
}
