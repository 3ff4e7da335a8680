/* --format: a subset of Go's text/template over JSON rows, Docker's table
 * directive, and Docker's human sizes and times. Written from the template
 * language's documentation; the data are jansson values, so a field path
 * walks objects and a missing key prints "<no value>" as Go's maps do. */
#define _GNU_SOURCE /* asprintf, strptime, timegm */
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "format.h"

enum { A_DOT, A_FIELD, A_LIT, A_FUNC, A_SUB };
enum { N_TEXT, N_ACTION, N_IF, N_RANGE, N_WITH };

struct pipe;

struct arg {
	int kind;
	char *name;     /* A_FUNC: the function; A_FIELD: ".A.B" without the first dot */
	json_t *lit;    /* A_LIT */
	struct pipe *sub; /* A_SUB: a parenthesised pipeline */
	size_t pos;
};

struct cmd {
	struct arg *args;
	size_t n;
};

struct pipe {
	struct cmd *cmds;
	size_t n;
	size_t pos;
};

struct node {
	int kind;
	char *text; /* N_TEXT */
	struct pipe *pipe;
	struct node *body, *alt, *next;
};

struct fmt {
	struct node *root;
	const char *src; /* the template, for error positions */
	const struct fmt_header *headers;
	bool table, json, header_mode;
	FILE *out;
	char **lines; /* a table's rendered rows, header first */
	size_t nlines;
};

/* ---- errors ------------------------------------------------------------- */

/* "template: LINE:COL: message", as Go names positions */
static char *errorf(const char *src, size_t pos, const char *spec, ...)
{
	size_t line = 1, col = 1;
	char msg[256], *out;
	va_list ap;

	for (size_t i = 0; i < pos && src[i]; i++, col++)
		if (src[i] == '\n')
			line++, col = 0;
	va_start(ap, spec);
	vsnprintf(msg, sizeof(msg), spec, ap);
	va_end(ap);
	if (asprintf(&out, "template: %zu:%zu: %s", line, col, msg) < 0)
		return NULL;
	return out;
}

/* ---- parsing ------------------------------------------------------------ */

struct parser {
	const char *src;
	size_t i;     /* position in src */
	size_t end;   /* where the current action's "}}" (or " -}}") begins */
	size_t after; /* just after the current action */
	bool trim;    /* the current action ends with " -}}" */
	struct pipe *else_if; /* the pipeline of the {{else if}} just read */
	char *error;
};

static void pipe_free(struct pipe *p);

static void node_free(struct node *n)
{
	while (n) {
		struct node *next = n->next;

		free(n->text);
		pipe_free(n->pipe);
		node_free(n->body);
		node_free(n->alt);
		free(n);
		n = next;
	}
}

static void pipe_free(struct pipe *p)
{
	if (!p)
		return;
	for (size_t c = 0; c < p->n; c++) {
		for (size_t a = 0; a < p->cmds[c].n; a++) {
			free(p->cmds[c].args[a].name);
			json_decref(p->cmds[c].args[a].lit);
			pipe_free(p->cmds[c].args[a].sub);
		}
		free(p->cmds[c].args);
	}
	free(p->cmds);
	free(p);
}

static void skip_space(struct parser *ps)
{
	while (ps->i < ps->end && isspace((unsigned char)ps->src[ps->i]))
		ps->i++;
}

static bool word_char(char c)
{
	return isalnum((unsigned char)c) || c == '_';
}

static struct pipe *parse_pipe(struct parser *ps, char close);

/* a quoted string: "..." with Go's common escapes, or `raw` */
static json_t *parse_string(struct parser *ps)
{
	char q = ps->src[ps->i++], *buf = malloc(ps->end - ps->i + 1);
	size_t n = 0;
	json_t *s;

	while (ps->i < ps->end && ps->src[ps->i] != q) {
		char c = ps->src[ps->i++];

		if (c == '\\' && q == '"' && ps->i < ps->end) {
			c = ps->src[ps->i++];
			c = c == 'n' ? '\n' : c == 't' ? '\t' : c;
		}
		buf[n++] = c;
	}
	if (ps->i >= ps->end) {
		free(buf);
		ps->error = errorf(ps->src, ps->i, "unterminated quoted string");
		return NULL;
	}
	ps->i++;
	s = json_stringn(buf, n);
	free(buf);
	return s;
}

static int parse_arg(struct parser *ps, struct arg *a)
{
	const char *s = ps->src;
	size_t start = ps->i;

	a->pos = start;
	if (s[start] == '"' || s[start] == '`') {
		a->kind = A_LIT;
		return (a->lit = parse_string(ps)) ? 0 : -1;
	}
	if (s[start] == '(') {
		ps->i++;
		a->kind = A_SUB;
		return (a->sub = parse_pipe(ps, ')')) ? 0 : -1;
	}
	if (s[start] == '.') {
		ps->i++;
		while (ps->i < ps->end && (word_char(s[ps->i]) || s[ps->i] == '.'))
			ps->i++;
		a->kind = ps->i - start == 1 ? A_DOT : A_FIELD;
		a->name = a->kind == A_FIELD ? strndup(s + start + 1, ps->i - start - 1) : NULL;
		return 0;
	}
	if (isdigit((unsigned char)s[start]) || (s[start] == '-' && isdigit((unsigned char)s[start + 1]))) {
		char *e;
		long long v = strtoll(s + start, &e, 10);

		ps->i = (size_t)(e - s);
		a->kind = A_LIT;
		a->lit = json_integer(v);
		return 0;
	}
	if (isalpha((unsigned char)s[start])) {
		while (ps->i < ps->end && word_char(s[ps->i]))
			ps->i++;
		a->name = strndup(s + start, ps->i - start);
		a->kind = A_FUNC;
		if (!strcmp(a->name, "true") || !strcmp(a->name, "false") || !strcmp(a->name, "nil")) {
			a->kind = A_LIT;
			a->lit = a->name[0] == 'n' ? json_null() : json_boolean(a->name[0] == 't');
		}
		return 0;
	}
	ps->error = errorf(s, start, "unexpected \"%c\" in command", s[start]);
	return -1;
}

/* args separated by spaces, commands by '|', up to the action's end or
 * (inside parentheses) the closing ')' */
static struct pipe *parse_pipe(struct parser *ps, char close)
{
	struct pipe *p = calloc(1, sizeof(*p));

	p->pos = ps->i;
	for (;;) {
		struct cmd *c;

		p->cmds = realloc(p->cmds, (p->n + 1) * sizeof(*p->cmds));
		c = &p->cmds[p->n++];
		memset(c, 0, sizeof(*c));
		for (;;) {
			skip_space(ps);
			if (ps->i >= ps->end || ps->src[ps->i] == '|' || ps->src[ps->i] == ')')
				break;
			c->args = realloc(c->args, (c->n + 1) * sizeof(*c->args));
			memset(&c->args[c->n], 0, sizeof(*c->args));
			if (parse_arg(ps, &c->args[c->n++]) < 0)
				goto fail;
		}
		if (!c->n) {
			ps->error = errorf(ps->src, ps->i, "missing value for command");
			goto fail;
		}
		if (ps->i < ps->end && ps->src[ps->i] == '|') {
			ps->i++;
			continue;
		}
		break;
	}
	if (close && (ps->i >= ps->end || ps->src[ps->i] != close)) {
		ps->error = errorf(ps->src, ps->i, "unclosed left paren");
		goto fail;
	}
	if (!close && ps->i < ps->end) {
		ps->error = errorf(ps->src, ps->i, "unexpected \"%c\" in operand", ps->src[ps->i]);
		goto fail;
	}
	if (close)
		ps->i++;
	return p;
fail:
	pipe_free(p);
	return NULL;
}

enum { T_EOF, T_END, T_ELSE, T_ELSE_IF };

static struct node *parse_list(struct parser *ps, int *term);

static struct node *new_node(int kind)
{
	struct node *n = calloc(1, sizeof(*n));

	n->kind = kind;
	return n;
}

/* if/range/with PIPE: the body, an optional {{else}} or {{else if PIPE}}
 * part, then {{end}}; pipe is an {{else if}}'s, already parsed */
static struct node *parse_block(struct parser *ps, int kind, size_t at, struct pipe *pipe)
{
	struct node *n = new_node(kind);
	int term;

	if (!(n->pipe = pipe ? pipe : parse_pipe(ps, 0)))
		goto fail;
	if (!pipe) {
		ps->i = ps->after;
		while (ps->trim && isspace((unsigned char)ps->src[ps->i]))
			ps->i++;
	}
	if (!(n->body = parse_list(ps, &term)) && ps->error)
		goto fail;
	if (term == T_ELSE_IF) { /* the nested if ends at the one {{end}} */
		pipe = ps->else_if;
		ps->else_if = NULL;
		if (!(n->alt = parse_block(ps, N_IF, at, pipe)))
			goto fail;
		return n;
	}
	if (term == T_ELSE && !(n->alt = parse_list(ps, &term)) && ps->error)
		goto fail;
	if (term != T_END) {
		ps->error = ps->error ? ps->error : errorf(ps->src, at, "unexpected EOF: no {{end}}");
		goto fail;
	}
	return n;
fail:
	node_free(n);
	return NULL;
}

/* the action at ps->i (just after "{{"); *term says if it ended a list */
static struct node *parse_action(struct parser *ps, int *term)
{
	const char *s = ps->src;
	size_t at = ps->i, w;

	skip_space(ps);
	for (w = ps->i; w < ps->end && word_char(s[w]); w++)
		;
#define IS(kw) (w - ps->i == strlen(kw) && !strncmp(s + ps->i, kw, w - ps->i))
	if (IS("end") || IS("else")) {
		*term = IS("end") ? T_END : T_ELSE;
		ps->i = w;
		skip_space(ps);
		if (*term == T_ELSE && !strncmp(s + ps->i, "if", 2) && isspace((unsigned char)s[ps->i + 2])) {
			*term = T_ELSE_IF;
			ps->i += 2;
			if (!(ps->else_if = parse_pipe(ps, 0)))
				*term = T_EOF;
			return NULL;
		}
		if (ps->i < ps->end) {
			ps->error = errorf(s, ps->i, "unexpected \"%c\" after %s", s[ps->i], *term == T_END ? "end" : "else");
			return NULL;
		}
		return NULL;
	}
	if (IS("if") || IS("range") || IS("with")) {
		int kind = IS("if") ? N_IF : IS("range") ? N_RANGE : N_WITH;

		ps->i = w;
		return parse_block(ps, kind, at, NULL);
	}
	if (IS("define") || IS("template") || IS("block") || s[ps->i] == '$') {
		ps->error = errorf(s, ps->i, "%.*s is not supported", (int)(w - ps->i) ? (int)(w - ps->i) : 1, s + ps->i);
		return NULL;
	}
#undef IS
	{
		struct node *n = new_node(N_ACTION);

		if (!(n->pipe = parse_pipe(ps, 0))) {
			free(n);
			return NULL;
		}
		return n;
	}
}

/* finds the action opening at or after ps->i; sets ps->end; returns the
 * text before it (trimmed for "{{- ") */
static bool next_action(struct parser *ps, size_t *text_len, bool *trim_after)
{
	const char *s = ps->src, *open = strstr(s + ps->i, "{{"), *close;

	if (!open) {
		*text_len = strlen(s + ps->i);
		return false;
	}
	*text_len = (size_t)(open - (s + ps->i));
	if (open[2] == '-' && isspace((unsigned char)open[3]))
		while (*text_len && isspace((unsigned char)s[ps->i + *text_len - 1]))
			(*text_len)--;
	if (!(close = strstr(open + 2, "}}"))) {
		ps->error = errorf(s, (size_t)(open - s), "unclosed action");
		return false;
	}
	*trim_after = close - open > 3 && close[-1] == '-' && isspace((unsigned char)close[-2]);
	ps->end = (size_t)(close - s) - (*trim_after ? 2 : 0);
	return true;
}

static struct node *parse_list(struct parser *ps, int *term)
{
	struct node *head = NULL, **tail = &head;

	*term = T_EOF;
	while (ps->src[ps->i]) {
		size_t len, after;
		bool trim = false, more = next_action(ps, &len, &trim);
		struct node *n;

		if (len) {
			n = new_node(N_TEXT);
			n->text = strndup(ps->src + ps->i, len);
			*tail = n, tail = &n->next;
		}
		if (!more) {
			ps->i += strlen(ps->src + ps->i);
			break;
		}
		ps->i = (size_t)(strstr(ps->src + ps->i, "{{") - ps->src) + 2;
		if (ps->src[ps->i] == '-' && isspace((unsigned char)ps->src[ps->i + 1]))
			ps->i++;
		after = ps->end + (trim ? 4 : 2);
		ps->after = after, ps->trim = trim;
		n = NULL;
		if (strncmp(ps->src + ps->i, "/*", 2) && !(n = parse_action(ps, term)) && ps->error)
			goto fail;
		if (!n || n->kind == N_ACTION) { /* a block moved on past its {{end}} itself */
			ps->i = after;
			while (trim && isspace((unsigned char)ps->src[ps->i]))
				ps->i++;
		}
		if (n)
			*tail = n, tail = &n->next;
		else if (*term != T_EOF)
			return head;
	}
	return head;
fail:
	node_free(head);
	return NULL;
}

static struct node *parse(const char *src, char **error)
{
	struct parser ps = { .src = src };
	struct node *root;
	int term;

	root = parse_list(&ps, &term);
	pipe_free(ps.else_if);
	if (!ps.error && term != T_EOF)
		ps.error = errorf(src, ps.i, "unexpected {{%s}}", term == T_END ? "end" : "else");
	if (ps.error) {
		node_free(root);
		*error = ps.error;
		return NULL;
	}
	return root;
}

/* ---- evaluation --------------------------------------------------------- */

struct exec {
	fmt *f;
	FILE *out;
	char *error;
};

static int strcmp_ptr(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Go's default printing: lists as [a b], maps as map[k:v] in key order */
static void print_value(FILE *out, json_t *v)
{
	const char **keys;
	const char *k;
	json_t *x;
	size_t i, n;

	switch (json_typeof(v)) {
	case JSON_STRING:
		fwrite(json_string_value(v), 1, json_string_length(v), out);
		break;
	case JSON_INTEGER:
		fprintf(out, "%lld", (long long)json_integer_value(v));
		break;
	case JSON_REAL:
		fprintf(out, "%g", json_real_value(v));
		break;
	case JSON_TRUE:
	case JSON_FALSE:
		fputs(json_is_true(v) ? "true" : "false", out);
		break;
	case JSON_NULL:
		fputs("<no value>", out);
		break;
	case JSON_ARRAY:
		fputc('[', out);
		json_array_foreach (v, i, x) {
			if (i)
				fputc(' ', out);
			print_value(out, x);
		}
		fputc(']', out);
		break;
	case JSON_OBJECT:
		n = json_object_size(v);
		keys = malloc((n + 1) * sizeof(*keys));
		i = 0;
		json_object_foreach (v, k, x)
			keys[i++] = k;
		qsort(keys, n, sizeof(*keys), strcmp_ptr);
		fputs("map[", out);
		for (i = 0; i < n; i++) {
			fprintf(out, "%s%s:", i ? " " : "", keys[i]);
			print_value(out, json_object_get(v, keys[i]));
		}
		fputc(']', out);
		free(keys);
		break;
	}
}

static bool truth(json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_STRING:
		return json_string_length(v) > 0;
	case JSON_INTEGER:
		return json_integer_value(v) != 0;
	case JSON_REAL:
		return json_real_value(v) != 0;
	case JSON_TRUE:
		return true;
	case JSON_ARRAY:
		return json_array_size(v) > 0;
	case JSON_OBJECT:
		return json_object_size(v) > 0;
	default:
		return false;
	}
}

static json_t *eval_pipe(struct exec *x, struct pipe *p, json_t *dot);

/* .A.B from dot; in a table's header row, the field's column header */
static json_t *eval_field(struct exec *x, struct arg *a, json_t *dot)
{
	char *path = strdup(a->name), *save = NULL, *last = NULL;
	json_t *v = dot;

	for (char *k = strtok_r(path, ".", &save); k; k = strtok_r(NULL, ".", &save)) {
		last = k;
		if (x->f->header_mode)
			continue;
		if (!json_is_object(v) && !json_is_null(v)) {
			x->error = errorf(x->f->src, a->pos, "can't evaluate field %s in a %s", k,
					  json_is_array(v) ? "list" : "value");
			free(path);
			return NULL;
		}
		v = json_object_get(v, k);
		if (!v)
			v = json_null();
	}
	if (x->f->header_mode) {
		const char *h = NULL;
		char up[128];
		size_t i;

		for (i = 0; x->f->headers && x->f->headers[i].field && !h; i++)
			if (!strcmp(x->f->headers[i].field, last))
				h = x->f->headers[i].header;
		for (i = 0; !h && last[i] && i + 1 < sizeof(up); i++)
			up[i] = (char)toupper((unsigned char)last[i]);
		up[h ? 0 : i] = '\0';
		v = json_string(h ? h : up);
		free(path);
		return v;
	}
	free(path);
	return json_incref(v);
}

static json_t *eval_arg(struct exec *x, struct arg *a, json_t *dot)
{
	switch (a->kind) {
	case A_DOT:
		return json_incref(dot);
	case A_FIELD:
		return eval_field(x, a, dot);
	case A_LIT:
		return json_incref(a->lit);
	case A_SUB:
		return eval_pipe(x, a->sub, dot);
	default:
		x->error = errorf(x->f->src, a->pos, "%s is a function: it takes no arguments here", a->name);
		return NULL;
	}
}

static char *to_text(json_t *v)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	print_value(m, v);
	fclose(m);
	return buf;
}

static json_t *fn_case(json_t *v, int (*conv)(int))
{
	char *s = to_text(v);
	json_t *r;

	for (char *c = s; *c; c++)
		*c = (char)conv((unsigned char)*c);
	r = json_string(s);
	free(s);
	return r;
}

/* index X K1 K2...: an object's member or a list's element */
static json_t *fn_index(struct exec *x, size_t pos, json_t **av, size_t n)
{
	json_t *v = av[0];

	for (size_t i = 1; i < n; i++) {
		if (json_is_object(v) && json_is_string(av[i])) {
			v = json_object_get(v, json_string_value(av[i]));
		} else if (json_is_array(v) && json_is_integer(av[i])) {
			json_int_t k = json_integer_value(av[i]);

			if (k < 0 || (size_t)k >= json_array_size(v)) {
				x->error = errorf(x->f->src, pos, "error calling index: index out of range: %lld", (long long)k);
				return NULL;
			}
			v = json_array_get(v, (size_t)k);
		} else if (!json_is_null(v)) {
			x->error = errorf(x->f->src, pos, "error calling index: cannot index this value");
			return NULL;
		}
		if (!v)
			v = json_null();
	}
	return json_incref(v);
}

static json_t *fn_join(struct exec *x, size_t pos, json_t *list, json_t *sep)
{
	char *buf = NULL;
	size_t len = 0, i;
	FILE *m;
	json_t *e, *r;

	if (!json_is_array(list) || !json_is_string(sep)) {
		x->error = errorf(x->f->src, pos, "error calling join: wants a list and a string");
		return NULL;
	}
	m = open_memstream(&buf, &len);
	json_array_foreach (list, i, e) {
		if (i)
			fputs(json_string_value(sep), m);
		print_value(m, e);
	}
	fclose(m);
	r = json_string(buf);
	free(buf);
	return r;
}

static json_t *fn_len(struct exec *x, size_t pos, json_t *v)
{
	if (json_is_string(v))
		return json_integer((json_int_t)json_string_length(v));
	if (json_is_array(v))
		return json_integer((json_int_t)json_array_size(v));
	if (json_is_object(v))
		return json_integer((json_int_t)json_object_size(v));
	x->error = errorf(x->f->src, pos, "error calling len: len of this value");
	return NULL;
}

static json_t *fn_split(json_t *s, json_t *sep)
{
	json_t *r = json_array();
	const char *p = json_string_value(s) ? json_string_value(s) : "";
	const char *d = json_string_value(sep) ? json_string_value(sep) : "";
	const char *q;

	while (*d && (q = strstr(p, d))) {
		json_array_append_new(r, json_stringn(p, (size_t)(q - p)));
		p = q + strlen(d);
	}
	json_array_append_new(r, json_string(p));
	return r;
}

/* the functions and how many arguments each takes (-1: one or more) */
static const struct {
	const char *name;
	int nargs;
} funcs[] = { { "json", 1 }, { "index", -1 }, { "len", 1 }, { "join", 2 }, { "lower", 1 },
	      { "upper", 1 }, { "split", 2 }, { "eq", 2 }, { "ne", 2 }, { "not", 1 },
	      { "and", 2 }, { "or", 2 }, { "print", 1 }, { NULL, 0 } };

static json_t *call(struct exec *x, const char *name, size_t pos, json_t **av, size_t n)
{
	size_t f;

	for (f = 0; funcs[f].name && strcmp(funcs[f].name, name); f++)
		;
	if (!funcs[f].name) {
		x->error = errorf(x->f->src, pos, "function \"%s\" not defined", name);
		return NULL;
	}
	if (funcs[f].nargs >= 0 ? n != (size_t)funcs[f].nargs : n < 1) {
		x->error = errorf(x->f->src, pos, "wrong number of args for %s: want %d got %zu", name,
				  funcs[f].nargs < 0 ? 1 : funcs[f].nargs, n);
		return NULL;
	}
	if (!strcmp(name, "json")) {
		char *s = json_dumps(av[0], JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER);
		json_t *r = json_string(s ? s : "null");

		free(s);
		return r;
	}
	if (!strcmp(name, "index"))
		return fn_index(x, pos, av, n);
	if (!strcmp(name, "len"))
		return fn_len(x, pos, av[0]);
	if (!strcmp(name, "join"))
		return fn_join(x, pos, av[0], av[1]);
	if (!strcmp(name, "lower") || !strcmp(name, "upper"))
		return fn_case(av[0], name[0] == 'l' ? tolower : toupper);
	if (!strcmp(name, "split"))
		return fn_split(av[0], av[1]);
	if (!strcmp(name, "eq") || !strcmp(name, "ne"))
		return json_boolean(json_equal(av[0], av[1]) == (name[0] == 'e'));
	if (!strcmp(name, "not"))
		return json_boolean(!truth(av[0]));
	if (!strcmp(name, "and"))
		return json_incref(truth(av[0]) ? av[1] : av[0]);
	if (!strcmp(name, "or"))
		return json_incref(truth(av[0]) ? av[0] : av[1]);
	return json_incref(av[0]); /* print */
}

/* a command: a function with its arguments (the piped value last) or one value */
static json_t *eval_cmd(struct exec *x, struct cmd *c, json_t *dot, json_t *piped)
{
	json_t *av[16], *r = NULL;
	size_t n = 0;

	if (c->args[0].kind != A_FUNC) {
		if (c->n > 1 || piped) {
			x->error = errorf(x->f->src, c->args[c->n > 1 ? 1 : 0].pos, "can't give argument to non-function");
			return NULL;
		}
		return eval_arg(x, &c->args[0], dot);
	}
	if (c->n > 15) {
		x->error = errorf(x->f->src, c->args[15].pos, "too many arguments");
		return NULL;
	}
	for (size_t i = 1; i < c->n; i++)
		if (!(av[n++] = eval_arg(x, &c->args[i], dot)))
			goto out;
	if (piped)
		av[n++] = json_incref(piped);
	if (x->f->header_mode && strcmp(c->args[0].name, "json")) /* headers pass through */
		r = n ? json_incref(av[n - 1]) : json_string("");
	else
		r = call(x, c->args[0].name, c->args[0].pos, av, n);
out:
	for (size_t i = 0; i < n; i++)
		json_decref(av[i]);
	return r;
}

static json_t *eval_pipe(struct exec *x, struct pipe *p, json_t *dot)
{
	json_t *v = NULL;

	for (size_t i = 0; i < p->n; i++) {
		json_t *next = eval_cmd(x, &p->cmds[i], dot, v);

		json_decref(v);
		if (!(v = next))
			return NULL;
	}
	return v;
}

static int exec_list(struct exec *x, struct node *n, json_t *dot);

static int exec_block(struct exec *x, struct node *n, json_t *dot)
{
	json_t *v = eval_pipe(x, n->pipe, dot), *e;
	int rc = 0;
	size_t i;
	const char *k;

	if (!v)
		return -1;
	if (x->f->header_mode && n->kind == N_RANGE) /* a header row has nothing to range over */
		rc = 0;
	else if (!truth(v))
		rc = exec_list(x, n->alt, dot);
	else if (n->kind == N_IF)
		rc = exec_list(x, n->body, dot);
	else if (n->kind == N_WITH || x->f->header_mode)
		rc = exec_list(x, n->body, v);
	else if (json_is_array(v))
		json_array_foreach (v, i, e)
			if ((rc = exec_list(x, n->body, e)) < 0)
				break;
	if (n->kind == N_RANGE && json_is_object(v) && !x->f->header_mode)
		json_object_foreach (v, k, e) /* jansson keeps insertion order */
			if ((rc = exec_list(x, n->body, e)) < 0)
				break;
	if (n->kind == N_RANGE && !json_is_array(v) && !json_is_object(v) && truth(v) && !x->f->header_mode) {
		x->error = errorf(x->f->src, n->pipe->pos, "range can't iterate over %s", "this value");
		rc = -1;
	}
	json_decref(v);
	return rc;
}

static int exec_list(struct exec *x, struct node *n, json_t *dot)
{
	for (; n; n = n->next) {
		json_t *v;

		if (n->kind == N_TEXT) {
			fputs(n->text, x->out);
		} else if (n->kind == N_ACTION) {
			if (!(v = eval_pipe(x, n->pipe, dot)))
				return -1;
			print_value(x->out, v);
			json_decref(v);
		} else if (exec_block(x, n, dot) < 0) {
			return -1;
		}
	}
	return 0;
}

/* ---- the --format modes ------------------------------------------------- */

int fmt_is_json(const char *format)
{
	return format && !strcmp(format, "json");
}

/* "\t" and "\n" typed as two characters become the characters (Docker) */
static char *unescape(const char *s)
{
	char *out = malloc(strlen(s) + 1), *o = out;

	while (*s) {
		if (s[0] == '\\' && (s[1] == 't' || s[1] == 'n')) {
			*o++ = s[1] == 't' ? '\t' : '\n';
			s += 2;
		} else {
			*o++ = *s++;
		}
	}
	*o = '\0';
	return out;
}

static char *render(fmt *f, json_t *row, char **error)
{
	char *buf = NULL;
	size_t len = 0;
	struct exec x = { .f = f };

	x.out = open_memstream(&buf, &len);
	if (exec_list(&x, f->root, row) < 0) {
		fclose(x.out);
		free(buf);
		*error = x.error;
		return NULL;
	}
	fclose(x.out);
	return buf;
}

fmt *fmt_new(const char *format, const char *default_table, const struct fmt_header *headers,
	     FILE *out, char **error)
{
	fmt *f = calloc(1, sizeof(*f));
	const char *tmpl = format;

	f->out = out;
	f->headers = headers;
	if (!format || !*format || !strcmp(format, "table"))
		tmpl = default_table;
	f->json = fmt_is_json(format);
	if (f->json)
		return f;
	if (!strncmp(tmpl, "table", 5) && (!tmpl[5] || isspace((unsigned char)tmpl[5]))) {
		f->table = true;
		tmpl += 5;
		while (*tmpl == ' ')
			tmpl++;
	}
	f->src = unescape(tmpl);
	if (!(f->root = parse(f->src, error))) {
		free((char *)f->src);
		free(f);
		return NULL;
	}
	return f;
}

static void add_line(fmt *f, char *line)
{
	f->lines = realloc(f->lines, (f->nlines + 1) * sizeof(*f->lines));
	f->lines[f->nlines++] = line;
}

int fmt_row(fmt *f, json_t *row, char **error)
{
	char *line;

	if (f->json) {
		json_dumpf(row, f->out, JSON_COMPACT | JSON_PRESERVE_ORDER);
		fputc('\n', f->out);
		return 0;
	}
	if (f->table && !f->nlines) {
		f->header_mode = true;
		line = render(f, row, error);
		f->header_mode = false;
		if (!line)
			return -1;
		add_line(f, line);
	}
	if (!(line = render(f, row, error)))
		return -1;
	if (f->table) {
		add_line(f, line);
		return 0;
	}
	fprintf(f->out, "%s\n", line);
	free(line);
	return 0;
}

/* cells split at tabs, each column as wide as its widest cell plus 3 and
 * at least 10 (Docker's tabwriter settings); the last cell is not padded */
static void print_table(fmt *f)
{
	size_t width[64] = { 0 };

	for (size_t l = 0; l < f->nlines; l++) {
		size_t c = 0;

		for (char *p = f->lines[l], *t; (t = strchr(p, '\t')) && c < 64; p = t + 1, c++)
			if ((size_t)(t - p) + 3 > width[c])
				width[c] = (size_t)(t - p) + 3;
	}
	for (size_t l = 0; l < f->nlines; l++) {
		size_t c = 0;
		char *p = f->lines[l], *t;

		for (; (t = strchr(p, '\t')) && c < 64; p = t + 1, c++)
			fprintf(f->out, "%-*.*s", (int)(width[c] < 10 ? 10 : width[c]), (int)(t - p), p);
		fprintf(f->out, "%s\n", p);
	}
}

void fmt_finish(fmt *f)
{
	if (!f)
		return;
	if (f->table && !f->nlines) { /* no rows: the header alone */
		json_t *none = json_object();
		char *err = NULL;

		fmt_row(f, none, &err);
		json_decref(none);
		free(err);
		for (; f->nlines > 1; f->nlines--)
			free(f->lines[f->nlines - 1]);
	}
	if (f->table)
		print_table(f);
	for (size_t l = 0; l < f->nlines; l++)
		free(f->lines[l]);
	free(f->lines);
	node_free(f->root);
	free((char *)f->src);
	free(f);
}

/* ---- sizes and times ---------------------------------------------------- */

void fmt_size(long long bytes, char *buf, size_t len)
{
	static const char *const units[] = { "B", "kB", "MB", "GB", "TB", "PB" };
	double v = (double)bytes;
	size_t u = 0;

	if (bytes < 0) {
		snprintf(buf, len, "N/A");
		return;
	}
	/* 999.6kB would print as 1e+03kB with three digits: move up a unit */
	while (v >= 999.5 && u + 1 < sizeof(units) / sizeof(units[0]))
		v /= 1000, u++;
	snprintf(buf, len, "%.3g%s", v, units[u]);
}

/* the thresholds and phrases of Docker's human durations */
static void human_duration(double secs, char *buf, size_t len)
{
	long s = (long)secs, m = (long)(secs / 60), h = lround(secs / 3600);

	if (s < 1)
		snprintf(buf, len, "Less than a second");
	else if (s == 1)
		snprintf(buf, len, "1 second");
	else if (s < 60)
		snprintf(buf, len, "%ld seconds", s);
	else if (m == 1)
		snprintf(buf, len, "About a minute");
	else if (m < 60)
		snprintf(buf, len, "%ld minutes", m);
	else if (h == 1)
		snprintf(buf, len, "About an hour");
	else if (h < 48)
		snprintf(buf, len, "%ld hours", h);
	else if (h < 24 * 7 * 2)
		snprintf(buf, len, "%ld days", h / 24);
	else if (h < 24 * 30 * 2)
		snprintf(buf, len, "%ld weeks", h / 24 / 7);
	else if (h < 24 * 365 * 2)
		snprintf(buf, len, "%ld months", h / 24 / 30);
	else
		snprintf(buf, len, "%ld years", (long)(secs / 3600) / 24 / 365);
}

/* RFC 3339 ("2024-01-01T00:00:00.123+02:00") to seconds since the epoch */
static int parse_rfc3339(const char *s, time_t *out)
{
	struct tm tm = { 0 };
	const char *p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	long off = 0;

	if (!p)
		return -1;
	while (*p == '.' || isdigit((unsigned char)*p))
		p++;
	if (*p == '+' || *p == '-') {
		int hh, mm;

		if (sscanf(p + 1, "%d:%d", &hh, &mm) != 2)
			return -1;
		off = (*p == '+' ? 1 : -1) * (hh * 3600L + mm * 60L);
	} else if (*p != 'Z' && *p != 'z') {
		return -1;
	}
	*out = timegm(&tm) - off;
	return 0;
}

void fmt_since(const char *rfc3339, time_t now, char *buf, size_t len)
{
	time_t t;
	char d[64];

	if (!rfc3339 || parse_rfc3339(rfc3339, &t) < 0) {
		snprintf(buf, len, "N/A");
		return;
	}
	human_duration(difftime(now, t), d, sizeof(d));
	snprintf(buf, len, "%s ago", d);
}
