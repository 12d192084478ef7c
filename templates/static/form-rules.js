// Cross-field rules of a procedure's form ("x-rules"), checked in the browser before the form
// is sent: the same rules and messages as the server's (agents/procedures/rules.py), which
// checks them again. The rules come from the form's data-rules attribute (no inline script).
(function () {
  "use strict";
  var DAY_MONTH_YEAR = /^(\d{1,2})[\/.\-](\d{1,2})[\/.\-](\d{4})$/;
  var ISO = /^(\d{4})-(\d{2})-(\d{2})$/;

  // As portal/forms.py reads a typed date: dd/mm/yyyy (d/m/yyyy, . or -), or ISO pasted in.
  function parseDate(text) {
    var typed = (text || "").trim();
    var found, year, month, day;
    if ((found = DAY_MONTH_YEAR.exec(typed))) {
      day = +found[1]; month = +found[2]; year = +found[3];
    } else if ((found = ISO.exec(typed))) {
      year = +found[1]; month = +found[2]; day = +found[3];
    } else {
      return null;
    }
    var when = new Date(Date.UTC(year, month - 1, day));
    if (when.getUTCFullYear() !== year || when.getUTCMonth() !== month - 1 || when.getUTCDate() !== day) {
      return null;
    }
    return when.getTime();
  }

  function filled(value) {
    return value !== null && value !== undefined && String(value).trim() !== "";
  }

  // Each kind: the fields it names, the one its message goes on, and when it holds.
  var KINDS = {
    date_order: {
      fields: ["before", "after"],
      errorOn: "after",
      holds: function (rule, value) {
        var before = parseDate(value(rule.before));
        var after = parseDate(value(rule.after));
        if (before === null || after === null) { return true; }
        return rule.strict ? after > before : after >= before;
      },
    },
    required_if: {
      fields: ["field", "when"],
      errorOn: "field",
      holds: function (rule, value) {
        var when = value(rule.when);
        if (!filled(when) || ("equals" in rule && String(when) !== String(rule.equals))) { return true; }
        return filled(value(rule.field));
      },
    },
  };

  function show(input, message) {
    var id = input.id + "-error";
    var note = document.getElementById(id);
    if (!note) {
      note = document.createElement("div");
      note.className = "msg";
      note.id = id;
      note.setAttribute("role", "alert");
      input.closest(".field").appendChild(note);
    }
    note.textContent = message;
    input.closest(".field").classList.add("error");
    input.setAttribute("aria-invalid", "true");
    input.setAttribute("aria-describedby", id);
  }

  function clear(input, message) {
    var note = document.getElementById(input.id + "-error");
    if (note && note.textContent === message) {  // only this rule's message, not another error
      note.remove();
      input.closest(".field").classList.remove("error");
      input.removeAttribute("aria-invalid");
      input.removeAttribute("aria-describedby");
    }
  }

  function checker(form) {
    var rules = JSON.parse(form.getAttribute("data-rules") || "[]");
    var prefix = form.getAttribute("data-field-prefix") || "";
    function input(name) { return form.elements.namedItem(prefix + name); }
    function value(name) { var element = input(name); return element ? element.value : ""; }
    // Check the rules (those that name `changed`, if given); answer the first field that breaks one.
    return function check(changed) {
      var first = null;
      rules.forEach(function (rule) {
        var kind = KINDS[rule.rule];
        if (!kind) { return; }
        if (changed && !kind.fields.some(function (role) { return input(rule[role]) === changed; })) { return; }
        var target = input(rule[kind.errorOn]);
        if (!target) { return; }
        if (kind.holds(rule, value)) {
          clear(target, rule.message);
        } else {
          show(target, rule.message);
          first = first || target;
        }
      });
      return first;
    };
  }

  var checks = new Map();
  document.querySelectorAll("form[data-rules]").forEach(function (form) {
    var check = checker(form);
    checks.set(form, check);
    form.addEventListener("change", function (event) { check(event.target); });
  });

  // Captured on the document, so it runs before the form's own submit handlers (such as the
  // one that disables the button against double submits) and stops them when a rule is broken.
  document.addEventListener("submit", function (event) {
    var check = checks.get(event.target);
    var broken = check && check();
    if (broken) {
      event.preventDefault();
      event.stopPropagation();
      broken.focus();
    }
  }, true);
})();
