// The user picker: an editable combobox with a listbox popup (the ARIA 1.2 combobox
// pattern), suggesting the organisation's actors by name, email or id (GET /actors).
//
// Keyboard: typing suggests; Down/Up open the list and move through it (Alt+Down opens it
// without moving); Enter chooses the highlighted user; Escape closes the list, or clears
// the field when it is closed; Tab leaves as usual. Focus stays in the field throughout:
// the highlighted option is named by aria-activedescendant.
import { actorLabel, breakable } from "./format.js";

const DEBOUNCE_MS = 150;

export class PickProblem extends Error {}

export class ActorPicker {
  /**
   * @param input     the combobox <input>
   * @param listbox   its <ul role="listbox">
   * @param field     the hidden input carrying the chosen actor's id
   * @param search    (q, signal) => Promise of the actors matching q
   * @param onPick    called with the actor a user chose
   */
  constructor({ input, listbox, field, search, onPick }) {
    Object.assign(this, { input, listbox, field, search, onPick });
    this.selected = null; // the actor whose label the field shows
    this.options = []; // the actors listed
    this.listed = null; // the text they were listed for
    this.failed = null; // why the last search failed
    this.active = -1;
    this.wantActive = null; // an arrow pressed before the answer came
    this.searching = null;
    this.timer = 0;
    input.addEventListener("input", () => this.typed());
    input.addEventListener("keydown", (event) => this.key(event));
    input.addEventListener("blur", () => this.close());
    // A click on an option must not take focus from the field first.
    listbox.addEventListener("mousedown", (event) => event.preventDefault());
    listbox.addEventListener("click", (event) => {
      const option = event.target.closest("[role=option]");
      if (option && option.getAttribute("aria-disabled") !== "true") this.pick(Number(option.dataset.index));
    });
  }

  /** Show `actor` (or nothing) as the field's value, without searching. */
  show(actor) {
    this.selected = actor;
    this.input.value = actor ? actorLabel(actor) : "";
    this.field.value = actor ? actor.id : "";
    this.input.setCustomValidity("");
  }

  typed() {
    this.selected = null;
    this.field.value = "";
    this.input.setCustomValidity("");
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.suggest(this.input.value.trim()), DEBOUNCE_MS);
  }

  /** List the actors matching `text` (the most recently seen when empty). */
  async suggest(text) {
    clearTimeout(this.timer);
    this.searching?.abort();
    const searching = (this.searching = new AbortController());
    this.listbox.setAttribute("aria-busy", "true");
    try {
      this.options = await this.search(text, searching.signal);
      this.failed = null;
    } catch (error) {
      if (error?.name === "AbortError") return;
      this.options = [];
      this.failed = error;
    } finally {
      if (this.searching === searching) {
        this.searching = null;
        this.listbox.removeAttribute("aria-busy");
      }
    }
    this.listed = text;
    if (document.activeElement === this.input) this.render();
  }

  render() {
    const items = this.options.map((actor, index) => {
      const item = document.createElement("li");
      item.id = `${this.listbox.id}-${index}`;
      item.setAttribute("role", "option");
      item.dataset.index = String(index);
      const name = document.createElement("span");
      name.className = "option-name";
      name.textContent = actorLabel(actor);
      item.append(name);
      for (const [value, className] of [
        [actor.email, "option-email"],
        [actor.id, "option-id"],
      ]) {
        if (value && value !== actorLabel(actor)) {
          const extra = document.createElement("span");
          extra.className = className;
          extra.append(breakable(value));
          item.append(" ", extra);
        }
      }
      return item;
    });
    if (!items.length) {
      const note = document.createElement("li");
      note.id = `${this.listbox.id}-none`;
      note.setAttribute("role", "option");
      note.setAttribute("aria-disabled", "true");
      note.className = "option-note";
      note.textContent = this.failed
        ? `Suggestions are unavailable (${this.failed.message}). A full user id still works.`
        : this.listed
          ? `No user matches “${this.listed}”.`
          : "No users recorded yet.";
      items.push(note);
    }
    this.listbox.replaceChildren(...items);
    this.active = -1;
    this.openList();
    if (this.wantActive !== null) {
      this.highlight(this.wantActive < 0 ? this.options.length - 1 : this.wantActive);
      this.wantActive = null;
    }
  }

  openList() {
    this.listbox.hidden = false;
    this.input.setAttribute("aria-expanded", "true");
  }

  close() {
    this.listbox.hidden = true;
    this.input.setAttribute("aria-expanded", "false");
    this.input.removeAttribute("aria-activedescendant");
    this.active = -1;
    this.wantActive = null;
  }

  get isOpen() {
    return !this.listbox.hidden;
  }

  /** Highlight option `index` (-1: none); with no options, name the note instead. */
  highlight(index) {
    const options = [...this.listbox.children];
    this.active = this.options.length ? index : -1;
    options.forEach((option, at) => option.setAttribute("aria-selected", String(at === this.active)));
    const current = this.options.length ? options[this.active] : options[0];
    if (current && (this.active >= 0 || !this.options.length)) {
      this.input.setAttribute("aria-activedescendant", current.id);
      current.scrollIntoView({ block: "nearest" });
    } else {
      this.input.removeAttribute("aria-activedescendant");
    }
  }

  /** Open the list (searching for the field's text if it lists something else). */
  open(then = null) {
    const text = this.input.value.trim();
    if (this.listed === text && !this.searching && this.selected === null) {
      this.render();
      if (then !== null) this.highlight(then < 0 ? this.options.length - 1 : then);
    } else {
      this.wantActive = then;
      this.suggest(this.selected ? "" : text);
    }
  }

  move(delta) {
    if (!this.isOpen) {
      this.open(delta > 0 ? 0 : -1);
      return;
    }
    if (this.searching) {
      this.wantActive = delta > 0 ? 0 : -1;
      return;
    }
    const count = this.options.length;
    if (!count) {
      this.highlight(-1);
      return;
    }
    const next = this.active < 0 ? (delta > 0 ? 0 : count - 1) : (this.active + delta + count) % count;
    this.highlight(next);
  }

  key(event) {
    if (event.key === "ArrowDown" && event.altKey) {
      event.preventDefault();
      if (!this.isOpen) this.open();
    } else if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      this.move(event.key === "ArrowDown" ? 1 : -1);
    } else if (event.key === "Enter") {
      if (this.isOpen && this.active >= 0) {
        event.preventDefault(); // choosing is not submitting the form
        this.pick(this.active);
      } else {
        this.close();
      }
    } else if (event.key === "Escape") {
      if (this.isOpen) {
        event.preventDefault();
        this.close();
      } else if (this.input.value) {
        event.preventDefault();
        this.show(null);
      }
    } else if (event.key === "Tab") {
      this.close();
    }
  }

  pick(index) {
    const actor = this.options[index];
    if (!actor) return;
    this.show(actor);
    this.close();
    this.onPick(actor);
  }

  /**
   * The actor id the field stands for when the form is applied: "" when empty, the chosen
   * actor's, or the one actor the typed text names (or matches). Throws a PickProblem
   * when the text matches several users or none (the list is then shown). When
   * suggestions are unavailable, the text is taken as a user id.
   */
  async resolve() {
    const text = this.input.value.trim();
    if (!text) return "";
    if (this.selected) return this.selected.id;
    let actors = this.listed === text && !this.failed && !this.searching ? this.options : null;
    if (actors === null) {
      try {
        actors = await this.search(text);
      } catch {
        return text;
      }
    }
    const wanted = text.toLowerCase();
    const exact = actors.filter((actor) => [actor.id, actor.email, actor.name].some((v) => v?.toLowerCase() === wanted));
    const found = exact.length === 1 ? exact[0] : actors.length === 1 ? actors[0] : null;
    if (found) {
      this.show(found);
      return found.id;
    }
    this.options = actors;
    this.listed = text;
    this.failed = null;
    throw new PickProblem(
      actors.length ? `Several users match “${text}”: choose one from the list.` : `No user matches “${text}”.`,
    );
  }
}
