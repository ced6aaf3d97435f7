"""Shared CODEOWNERS fixtures (stdlib only, so other tools can import them)."""

# GitHub's documented example file (about-code-owners, "Example of a CODEOWNERS file").
GITHUB_EXAMPLE = """\
# This is a comment.
# Each line is a file pattern followed by one or more owners.

# These owners will be the default owners for everything in
# the repo. Unless a later match takes precedence,
# @global-owner1 and @global-owner2 will be requested for
# review when someone opens a pull request.
*       @global-owner1 @global-owner2

# Order is important; the last matching pattern takes the most
# precedence. When someone opens a pull request that only
# modifies JS files, only @js-owner and not the global
# owner(s) will be requested for a review.
*.js    @js-owner #This is an inline comment.

# You can also use email addresses if you prefer.
*.go docs@example.com

# Teams can be specified as code owners as well.
*.txt @octo-org/octocats

# @doctocat owns any files in the build/logs directory at the root
# of the repository and any of its subdirectories.
/build/logs/ @doctocat

# The `docs/*` pattern will match files like `docs/getting-started.md`
# but not further nested files like `docs/build-app/troubleshooting.md`.
docs/*  docs@example.com

# @octocat owns any file in an apps directory anywhere in your repository.
apps/ @octocat

# @doctocat owns any file in the `/docs` directory in the root of your
# repository and any of its subdirectories.
/docs/ @doctocat

# Any change inside the `/scripts` directory will require approval
# from @doctocat or @octocat.
/scripts/ @doctocat @octocat

# @octocat owns any file in a `/logs` directory such as `/build/logs`,
# `/scripts/logs`, and `/deeply/nested/logs`.
**/logs @octocat

# @octocat owns any file in the `/apps` directory except for `/apps/github`,
# as its owners are left empty.
/apps/ @octocat
/apps/github

# @octocat owns any file in the `/apps` directory except for `/apps/github`,
# as this subdirectory has its own owner @doctocat.
/apps/ @octocat
/apps/github @doctocat
"""

G = ("@global-owner1", "@global-owner2")

# (CODEOWNERS text, path, expected owners) — expected follows GitHub's documented semantics.
TRICKY: list[tuple[str, str, tuple[str, ...]]] = [
    # anchoring and trailing slash
    ("/docs/ @a", "docs/x.md", ("@a",)),
    ("/docs/ @a", "src/docs/x.md", ()),
    ("docs/ @a", "src/docs/x.md", ("@a",)),
    ("docs/ @a", "docs/deep/er/x", ("@a",)),
    ("docs/ @a", "docs", ()),
    ("dataface/ai/ @a", "dataface/ai/x.py", ("@a",)),
    ("dataface/ai/ @a", "src/dataface/ai/x.py", ()),
    ("/prompts @a", "prompts", ("@a",)),
    ("/prompts @a", "prompts/x.txt", ("@a",)),
    ("/prompts @a", "src/prompts", ()),
    ("/prompts @a", "prompts.txt", ()),
    ("apps @a", "x/apps/y", ("@a",)),
    ("apps @a", "apps", ("@a",)),
    ("apps @a", "myapps/y", ()),
    ("/build/logs/ @a", "build/logs/sub/x", ("@a",)),
    ("/build/logs/ @a", "build/logs", ()),
    ("/build/logs/ @a", "src/build/logs/x", ()),
    ("/a/b/c.txt @a", "a/b/c.txt", ("@a",)),
    ("/a/b/c.txt @a", "a/b/c.txt.bak", ()),
    # * and ? stay within one segment
    ("*.js @a", "a/b/c.js", ("@a",)),
    ("*.js @a", "c.jsx", ()),
    ("*.js @a", "x.js.map", ()),
    ("*.js @a", "lib.js/index.ts", ("@a",)),
    ("docs/* @a", "docs/getting-started.md", ("@a",)),
    ("docs/* @a", "docs/build-app/troubleshooting.md", ()),
    ("docs/* @a", "src/docs/x.md", ()),
    ("docs/*.md @a", "docs/sub/x.md", ()),
    ("/* @a", "README.md", ("@a",)),
    ("/* @a", "src/main.py", ()),
    ("* @a", "deep/nested/file", ("@a",)),
    ("?.py @a", "a.py", ("@a",)),
    ("?.py @a", "ab.py", ()),
    ("a?c @a", "a/c", ()),
    ("src/*/test @a", "src/x/test/y", ("@a",)),
    ("src/*/test @a", "src/x/y/test", ()),
    # ** forms
    ("**/logs @a", "logs", ("@a",)),
    ("**/logs @a", "build/logs/x", ("@a",)),
    ("**/logs @a", "build/logs", ("@a",)),
    ("/**/logs @a", "a/b/logs/c", ("@a",)),
    ("a/**/b @a", "a/b", ("@a",)),
    ("a/**/b @a", "a/x/y/b", ("@a",)),
    ("a/**/b @a", "x/a/b", ()),
    ("a/**/b @a", "a/xb", ()),
    ("**/x/** @a", "p/q/x/r", ("@a",)),
    ("**/x/** @a", "x/r", ("@a",)),
    ("**/x/** @a", "x", ()),
    ("foo/** @a", "foo/bar/baz", ("@a",)),
    ("foo/** @a", "a/foo/bar", ()),
    ("foo/ @a", "a/foo/bar", ("@a",)),
    ("foo/** @a", "foo", ()),
    ("docs/** @a", "docs/a/b", ("@a",)),
    ("**/*.sql @a", "db/migrations/1.sql", ("@a",)),
    # case sensitivity
    ("/README.md @a", "readme.md", ()),
    ("*.JS @a", "x.js", ()),
    # comments, escapes and syntax GitHub rejects
    ("\\#notes @a", "#notes", ()),
    ("#notes @a", "#notes", ()),
    ("*.js @a #@b comment", "x.js", ("@a",)),
    ("foo#bar @a", "foo#bar", ("@a",)),
    ("* @d\n!*.md @a", "x.md", ("@d",)),
    ("* @d\n*.[ch] @a", "x.c", ("@d",)),
    ("* @d\n/x @a bogus", "x", ("@d",)),
    ("* @d\n/ @a", "x", ("@d",)),
    ("my\\ dir/ @a", "my dir/x", ("@a",)),
    ("my\\ dir/ @a", "my/x", ()),
    # owner forms, empty owners, last match wins
    ("*.go docs@example.com", "x.go", ("docs@example.com",)),
    ("*.txt @octo-org/octocats", "a.txt", ("@octo-org/octocats",)),
    ("* @d\n/apps/github", "apps/github/x", ()),
    ("* @a\n*.md @b\n* @c", "x.md", ("@c",)),
    ("*.md @b\ndocs/ @c", "docs/x.md", ("@c",)),
    ("docs/ @c\n*.md @b", "docs/x.md", ("@b",)),
    ("  *.py   @a   @b  ", "x.py", ("@a", "@b")),
    ("*.py\t@a", "x.py", ("@a",)),
    ("*.js @a\r\n*.md @b\r\n", "x.md", ("@b",)),
    # dotfiles
    (".github/ @a", ".github/workflows/ci.yml", ("@a",)),
    ("* @a", ".env", ("@a",)),
    ("/.env @a", ".env", ("@a",)),
    ("*.yml @a", ".github/workflows/ci.yml", ("@a",)),
]
