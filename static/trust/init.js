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

// Wide tables sit in <div class="app-table-scroll">, which scrolls sideways on a small screen. While it
// does, it can take keyboard focus (so arrow keys scroll it) and is announced as a region named after the
// table's caption (or the box's data-label); when it fits, it is a plain box again.
const tableScrollers = document.querySelectorAll(".app-table-scroll");
for (const box of tableScrollers) {
  // A name written in the template (aria-label) is kept as the region's name.
  if (!box.hasAttribute("data-label") && box.hasAttribute("aria-label")) {
    box.setAttribute("data-label", box.getAttribute("aria-label"));
  }
}

function markScrollingTables() {
  for (const box of tableScrollers) {
    if (box.scrollWidth > box.clientWidth + 1) {
      const caption = box.querySelector("caption");
      const name =
        box.getAttribute("data-label") ||
        (caption && caption.textContent.trim()) ||
        "Table";
      box.setAttribute("tabindex", "0");
      box.setAttribute("role", "region");
      box.setAttribute("aria-label", `${name} (scroll sideways to see it all)`);
    } else {
      box.removeAttribute("tabindex");
      box.removeAttribute("role");
      box.removeAttribute("aria-label");
    }
  }
}

if (tableScrollers.length) {
  markScrollingTables();
  window.addEventListener("resize", markScrollingTables);
}

// "Select all on this page": <a data-select-all="NAME" data-select-all-text="…" data-select-none-text="…">
// inside a form. Without JavaScript the link loads the page again with every box ticked; with it, the
// link ticks (or clears) the form's NAME boxes where they are, and says what a second press will do.
for (const link of document.querySelectorAll("a[data-select-all]")) {
  const form = link.closest("form");
  if (!form) {
    continue;
  }
  const boxes = () =>
    Array.from(form.querySelectorAll(`input[type="checkbox"][name="${link.dataset.selectAll}"]`));
  const label = () => {
    const all = boxes().length > 0 && boxes().every((box) => box.checked);
    link.textContent = all ? link.dataset.selectNoneText : link.dataset.selectAllText;
  };
  link.setAttribute("role", "button");
  link.addEventListener("click", (event) => {
    event.preventDefault();
    const tick = !boxes().every((box) => box.checked);
    for (const box of boxes()) {
      box.checked = tick;
    }
    label();
  });
  form.addEventListener("change", label);
  label();
}

// The header's menus (<details class="app-header__menu">) open without JavaScript; with it, one is
// open at a time, and a click elsewhere or Escape closes it (Escape puts focus back on its summary).
const headerMenus = () => document.querySelectorAll(".app-header__menu[open]");
document.addEventListener("click", (event) => {
  for (const menu of headerMenus()) {
    if (!menu.contains(event.target)) {
      menu.open = false;
    }
  }
});
document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape") {
    return;
  }
  for (const menu of headerMenus()) {
    menu.open = false;
    if (menu.contains(document.activeElement)) {
      menu.querySelector("summary").focus();
    }
  }
});
