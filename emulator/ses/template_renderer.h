// TemplateRenderer: SES's subset of Handlebars for email templates.
//
// Supports {{path.to.value}} and {{{raw}}} (output is never HTML-escaped, as in SES),
// {{#if x}}...{{else}}...{{/if}}, {{#unless x}}, {{#each list}} with {{this}},
// {{@index}}, {{@key}}, {{@first}}, {{@last}} and {{../parent}}, {{#with x}} and
// {{! comments }}. A plain {{variable}} absent from the data fails the rendering with
// SES's MissingRenderingAttribute wording; inside a condition an absent value is false.
// Pure functions; any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "core/json.h"
#include "core/status.h"

namespace understudy::ses {

// Why a template cannot be parsed ("Unclosed block: {{#if a}}"), or OK.
Status CheckTemplateSyntax(std::string_view text);

struct RenderError {
  enum class Kind { kSyntax, kMissingAttribute };
  Kind kind;
  std::string message;  // "Attribute 'name' is not present in the rendering data."
};

// Renders `text` with `data`; the error says what is missing or malformed.
std::variant<std::string, RenderError> RenderTemplate(std::string_view text, const Json& data);

}  // namespace understudy::ses
