// The launch form: the attack styles offered (and listed under the field) are those of
// the chosen attack module.
const form = document.getElementById("launch-eval");
if (form) {
  const mod = form.querySelector('select[name="attack_module"]');
  const list = document.getElementById("attack-styles");
  const hint = document.getElementById("styles-hint");
  const update = () => {
    const styles = (mod.selectedOptions[0]?.dataset.styles || "").split(",").filter(Boolean);
    list.replaceChildren(...["none", "all", ...styles].map((s) => Object.assign(document.createElement("option"), { value: s })));
    hint.textContent = `none, all, or a comma-separated list of the module's styles: ${styles.join(", ")}`;
    form.dataset.styles = styles.join(",");
  };
  mod.addEventListener("change", update);
  update();
}
