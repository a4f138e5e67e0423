// The citation helper on the claim form: as the archivist picks a source and pastes a quote,
// ask the server where the quote stands in the source's text (the same check the command makes)
// and show the passage with the quote highlighted, or why it was not found.
"use strict";
(function () {
  function $(id) { return document.getElementById(id); }

  function show(box, check) {
    box.textContent = "";
    box.classList.toggle("strata-error", Boolean(check.errors));
    if (check.errors) {
      box.textContent = Object.values(check.errors).flat().join(" ");
      return;
    }
    if (check.start === null) {
      box.textContent = "The source holds no text yet: the quote cannot be checked.";
      return;
    }
    const mark = document.createElement("mark");
    mark.textContent = check.match;
    box.append("…" + check.before, mark, check.after + "…");
    box.append(document.createElement("br"), "Offsets " + check.start + "–" + check.end + ".");
  }

  function check(url, box) {
    const source = $("id_source"), quote = $("id_quote");
    if (!source || !quote || !source.value || !quote.value) { box.textContent = ""; return; }
    const query = new URLSearchParams({ source: source.value, quote: quote.value });
    for (const name of ["start", "end"]) {
      const input = $("id_" + name);
      if (input && input.value) query.set(name, input.value);
    }
    fetch(url + "?" + query, { credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (result) { show(box, result); })
      .catch(function () { box.textContent = "The quote could not be checked just now."; });
  }

  document.addEventListener("DOMContentLoaded", function () {
    const quote = $("id_quote");
    if (!quote) return;
    const url = quote.dataset.checkUrl;
    const box = document.createElement("div");
    box.id = "quote-check";
    box.className = "strata-quote-check";
    box.setAttribute("aria-live", "polite");
    quote.after(box);
    let timer = null;
    const later = function () { clearTimeout(timer); timer = setTimeout(function () { check(url, box); }, 300); };
    quote.addEventListener("input", later);
    for (const name of ["start", "end"]) { const input = $("id_" + name); if (input) input.addEventListener("input", later); }
    // The source is a select2 autocomplete: it announces changes through jQuery.
    if (window.django && django.jQuery) django.jQuery("#id_source").on("change", later);
    $("id_source") && $("id_source").addEventListener("change", later);
    later();
  });
})();
