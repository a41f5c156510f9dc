// TrustSupport front-end start-up. Load once, at the end of <body>:
//
//   <script type="module" src="{% static 'trust/init.js' %}"></script>
//
// An external ES module, so a Content Security Policy without inline scripts
// works. It does what govuk-frontend's page template does with an inline
// script, then starts govuk-frontend's components.

import { initAll } from "./govuk-frontend.min.js";

// Only browsers that run ES modules get here, and those are the ones
// govuk-frontend supports, so both classes always apply.
document.body.classList.add("js-enabled", "govuk-frontend-supported");

initAll();

// Ask before submitting: <form data-confirm="Delete this?"> or
// <button data-confirm="Delete this?">. The button's message wins over the
// form's, so there is only ever one question. Cancelling stops the submit.
document.addEventListener(
  "submit",
  (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement)) {
      return;
    }

    let submitter = event.submitter;
    if (submitter === undefined) {
      // Browsers without SubmitEvent.submitter: the focused button, if any.
      const active = document.activeElement;
      submitter = active && active.form === form ? active : null;
    }

    const message =
      (submitter && submitter.getAttribute("data-confirm")) ||
      form.getAttribute("data-confirm");

    if (message && !window.confirm(message)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  },
  true,
);
