// The data only the household register knows, which proves a card is the user's own (FAQ 4):
// citizens give the household number and township / village / neighbourhood, foreign
// residents their chip residence permit's issue date, expiry date and back serial number.
// Used by registration and by the forgotten-password request without an email on file.

import {
  choiceGroup,
  collect,
  dateValue,
  fieldset,
  maxLength,
  required,
  textField,
} from "../forms.js";

export function proofSection() {
  const kind = choiceGroup({
    name: "kind",
    legend: "kind.legend",
    value: "citizen",
    options: [
      ["citizen", "kind.citizen"],
      ["foreigner", "kind.foreigner"],
    ],
  });
  const householdNo = textField({
    name: "household_no",
    label: "household.no",
    hint: "household.no.hint",
    maxlength: "32",
    autocomplete: "off",
  });
  const township = textField({
    name: "township",
    label: "household.township",
    hint: "household.township.hint",
    maxlength: "32",
    autocomplete: "off",
  });
  const village = textField({
    name: "village",
    label: "household.village",
    hint: "household.village.hint",
    maxlength: "32",
    autocomplete: "off",
  });
  const neighborhood = textField({
    name: "neighborhood",
    label: "household.neighborhood",
    hint: "household.neighborhood.hint",
    maxlength: "8",
    inputmode: "numeric",
    autocomplete: "off",
  });
  const household = fieldset("household.legend", householdNo, township, village, neighborhood);

  const issued = textField({ name: "issued_on", label: "residence.issued", type: "date" });
  const expires = textField({ name: "expires_on", label: "residence.expires", type: "date" });
  const serial = textField({
    name: "serial_no",
    label: "residence.serial",
    hint: "residence.serial.hint",
    maxlength: "32",
    autocomplete: "off",
  });
  const residence = fieldset("residence.legend", issued, expires, serial);
  residence.hidden = true;

  const isCitizen = () => kind.value() === "citizen";
  kind.onChange(() => {
    household.hidden = !isCitizen();
    residence.hidden = isCitizen();
  });

  const householdInputs = [householdNo, township, village, neighborhood].map((f) => f.input);
  const residenceInputs = [issued, expires, serial].map((f) => f.input);

  return {
    elements: [kind, household, residence],
    kind: () => kind.value(),

    validate() {
      if (isCitizen()) {
        return collect(
          ...householdInputs.map(required),
          ...householdInputs.map((input) =>
            maxLength(input, input === neighborhood.input ? 8 : 32),
          ),
        );
      }
      const problems = collect(
        dateValue(issued.input),
        dateValue(expires.input),
        required(serial.input),
        maxLength(serial.input, 32),
      );
      if (!problems.length && expires.input.value <= issued.input.value) {
        problems.push({ input: expires.input, key: "v.expiry_before_issue" });
      }
      return problems;
    },

    /** {household: {...}} or {residence: {...}}, as the API takes it. */
    body() {
      if (isCitizen()) {
        return {
          household: {
            household_no: householdNo.input.value.trim(),
            township: township.input.value.trim(),
            village: village.input.value.trim(),
            neighborhood: neighborhood.input.value.trim(),
          },
        };
      }
      return {
        residence: {
          issued_on: issued.input.value,
          expires_on: expires.input.value,
          serial_no: serial.input.value.trim(),
        },
      };
    },

    /** The inputs a failure is about: mismatches point at the whole proof. */
    inputsFor(error) {
      if (error.code === "household_mismatch") return householdInputs;
      if (error.code === "residence_mismatch") return residenceInputs;
      if (error.code === "proof_kind_mismatch")
        return isCitizen() ? householdInputs : residenceInputs;
      return [];
    },

    byLoc: {
      "household.household_no": householdNo.input,
      "household.township": township.input,
      "household.village": village.input,
      "household.neighborhood": neighborhood.input,
      "residence.issued_on": issued.input,
      "residence.expires_on": expires.input,
      "residence.serial_no": serial.input,
    },
  };
}
