// The Handlebars subset SES templates use (aws-semantics §5.3).
#include "ses/template_renderer.h"

#include <gtest/gtest.h>

namespace understudy::ses {
namespace {

std::string Render(const std::string& text, const Json& data) {
  auto r = RenderTemplate(text, data);
  if (auto* e = std::get_if<RenderError>(&r)) return "ERROR: " + e->message;
  return std::get<std::string>(r);
}

// Variables, nested paths, no HTML escaping (SES does not escape).
TEST(TemplateRendererTest, Variables) {
  Json data = {{"name", "Ada <b>"}, {"user", {{"address", {{"city", "Paris"}}}}}, {"n", 3}};
  EXPECT_EQ(Render("Hi {{name}} from {{ user.address.city }} x{{n}} {{{name}}}", data),
            "Hi Ada <b> from Paris x3 Ada <b>");
}

// A variable missing from the data fails the rendering with SES's message.
TEST(TemplateRendererTest, MissingVariableFails) {
  EXPECT_EQ(Render("Hi {{name}}", Json::object()),
            "ERROR: Attribute 'name' is not present in the rendering data.");
  EXPECT_EQ(Render("{{a.b}}", Json{{"a", Json::object()}}),
            "ERROR: Attribute 'a.b' is not present in the rendering data.");
}

// #if / else / unless: absent values are false, not errors.
TEST(TemplateRendererTest, Conditions) {
  std::string t = "{{#if vip}}VIP {{name}}{{else}}guest{{/if}}{{#unless vip}}!{{/unless}}";
  EXPECT_EQ(Render(t, Json{{"vip", true}, {"name", "Ada"}}), "VIP Ada");
  EXPECT_EQ(Render(t, Json::object()), "guest!");
  EXPECT_EQ(Render("{{#if list}}yes{{/if}}", Json{{"list", Json::array()}}), "");
}

// #each over arrays and objects, with this, @index, @first, @last, @key and ../ parents.
TEST(TemplateRendererTest, Each) {
  Json data = {{"items", {{{"n", "a"}}, {{"n", "b"}}}},
               {"tags", {"x", "y"}},
               {"title", "T"},
               {"map", {{"k1", "v1"}}}};
  EXPECT_EQ(
      Render("{{#each items}}{{@index}}:{{n}}/{{../title}}{{#if @last}}.{{else}},{{/if}}{{/each}}",
             data),
      "0:a/T,1:b/T.");
  EXPECT_EQ(Render("{{#each tags}}[{{this}}]{{/each}}", data), "[x][y]");
  EXPECT_EQ(Render("{{#each map}}{{@key}}={{this}}{{/each}}", data), "k1=v1");
  EXPECT_EQ(Render("{{#each none}}x{{else}}empty{{/each}}", data), "empty");
}

// Syntax errors are named.
TEST(TemplateRendererTest, SyntaxErrors) {
  EXPECT_EQ(CheckTemplateSyntax("{{#if a}}x").message(), "Unclosed block: {{#if a}}");
  EXPECT_EQ(CheckTemplateSyntax("x{{/if}}").message(), "Unexpected closing tag: {{/if}}");
  EXPECT_EQ(CheckTemplateSyntax("{{#if a}}x{{/each}}").message(), "{{#if}} closed by {{/each}}");
  EXPECT_EQ(CheckTemplateSyntax("{{name").message(), "Unclosed tag starting at '{{name'");
  EXPECT_EQ(CheckTemplateSyntax("{{#foo a}}{{/foo}}").message(),
            "Unsupported block helper: {{#foo}}");
  EXPECT_TRUE(CheckTemplateSyntax("{{! comment }}plain").ok());
}

}  // namespace
}  // namespace understudy::ses
