// Small enhancements every page shares. The pages work without them: times read in UTC,
// links can be selected and copied by hand, and destructive forms post directly.
(function () {
  "use strict";

  // Times: the server writes UTC (it cannot know the viewer's zone); show the viewer's own
  // time and how far away it is, and keep UTC in the title for anyone comparing notes.
  // Days up to two months ("in 45 days" reads better than "in 1 month"), then months, then years.
  var DAY = 86400;
  var UNITS = [["year", 365 * DAY, 365 * DAY], ["month", 30 * DAY, 60 * DAY], ["day", DAY, DAY],
               ["hour", 3600, 3600], ["minute", 60, 60]];

  function relative(date, now) {
    var seconds = (date.getTime() - now) / 1000;
    if (typeof Intl === "undefined" || !Intl.RelativeTimeFormat) return "";
    if (Math.abs(seconds) < 60) return seconds < 0 ? "less than a minute ago" : "in less than a minute";
    var words = new Intl.RelativeTimeFormat(undefined, {numeric: "auto"});
    for (var i = 0; i < UNITS.length; i++) {
      if (Math.abs(seconds) >= UNITS[i][2] || i === UNITS.length - 1) {
        return words.format(Math.round(seconds / UNITS[i][1]), UNITS[i][0]);
      }
    }
    return "";
  }

  function localTimes(root) {
    var now = Date.now();
    var shown = new Intl.DateTimeFormat(undefined, {dateStyle: "medium", timeStyle: "short"});
    root.querySelectorAll("time[datetime]").forEach(function (element) {
      var date = new Date(element.getAttribute("datetime"));
      if (isNaN(date.getTime())) return;
      var words = element.hasAttribute("data-relative") ? relative(date, now) : "";
      element.textContent = shown.format(date) + (words ? " (" + words + ")" : "");
      element.classList.add("local");
    });
  }

  // Copy buttons: the Clipboard API where the page may use it, else select the text and
  // ask the browser to copy it; either way say what happened next to the button.
  function copyText(button) {
    var source = document.getElementById(button.getAttribute("data-copy"));
    var status = document.getElementById(button.getAttribute("data-copy") + "-status");
    if (!source) return;
    var text = "value" in source ? source.value : source.textContent;
    function say(message) { if (status) status.textContent = message; }
    function fallback() {
      source.focus();
      if (source.select) source.select();
      var done = false;
      try { done = document.execCommand("copy"); } catch (error) { done = false; }
      say(done ? "Copied." : "Selected: press Ctrl+C (or ⌘C) to copy.");
    }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(function () { say("Copied."); }, fallback);
    } else {
      fallback();
    }
  }

  // Confirmation before anything that cannot be undone: the form names what it destroys in
  // data-confirm; the dialog's confirm button repeats the action's own words.
  function confirmBeforeSubmit(dialog) {
    var pending = null;
    var ok = document.getElementById("confirm-ok");
    var cancel = document.getElementById("confirm-cancel");
    document.addEventListener("submit", function (event) {
      var form = event.target;
      if (!form.hasAttribute("data-confirm") || form.dataset.confirmed === "yes") return;
      if (typeof dialog.showModal !== "function") return;
      event.preventDefault();
      pending = form;
      document.getElementById("confirm-text").textContent = form.getAttribute("data-confirm");
      ok.textContent = form.getAttribute("data-confirm-button") || "Yes";
      dialog.showModal();
      cancel.focus();
    });
    ok.addEventListener("click", function () {
      var form = pending;
      pending = null;
      dialog.close("confirm");
      if (form) {
        form.dataset.confirmed = "yes";
        if (form.requestSubmit) form.requestSubmit(); else form.submit();
        delete form.dataset.confirmed;  // a page restored from the back button asks again
      }
    });
    cancel.addEventListener("click", function () { pending = null; dialog.close("cancel"); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    localTimes(document);
    document.querySelectorAll("button[data-copy]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () { copyText(button); });
    });
    var dialog = document.getElementById("confirm-dialog");
    if (dialog) confirmBeforeSubmit(dialog);
  });
})();
