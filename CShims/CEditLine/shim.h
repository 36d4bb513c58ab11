// libedit's native API (histedit.h): line editing, history and completion for the console.
//
// el_set, el_get and history take C varargs, which Swift cannot call. Each wrapper below
// fixes one operation's argument list so Swift gets a typed, non-variadic function.
// No logic lives here: the console's behaviour is in Sources/Console.
#include <stdio.h>
#include <histedit.h>

// Swift 6 rejects references to the C globals stdin/stdout (shared mutable state);
// these accessors hand out the same FILE objects Swift's print() and libedit use.
static inline FILE *cel_stdin(void) { return stdin; }
static inline FILE *cel_stdout(void) { return stdout; }
static inline FILE *cel_stderr(void) { return stderr; }

// MARK: - EditLine settings

static inline int cel_set_editor(EditLine *el, const char *mode) {
    return el_set(el, EL_EDITOR, mode);
}

static inline int cel_set_prompt(EditLine *el, char *(*prompt)(EditLine *)) {
    return el_set(el, EL_PROMPT, prompt);
}

static inline int cel_set_history(EditLine *el, History *h) {
    return el_set(el, EL_HIST, history, h);
}

static inline int cel_set_signal(EditLine *el, int handle) {
    return el_set(el, EL_SIGNAL, handle);
}

static inline int cel_add_function(
    EditLine *el, const char *name, const char *help, unsigned char (*fn)(EditLine *, int)) {
    return el_set(el, EL_ADDFN, name, help, fn);
}

static inline int cel_bind(EditLine *el, const char *key, const char *function) {
    return el_set(el, EL_BIND, key, function, (const char *)NULL);
}

static inline int cel_set_clientdata(EditLine *el, void *data) {
    return el_set(el, EL_CLIENTDATA, data);
}

// EL_GETCFN: the function libedit reads each character with (1: a character, 0: end of
// input, -1: error with errno).
static inline int cel_set_getcfn(EditLine *el, int (*fn)(EditLine *, wchar_t *)) {
    return el_set(el, EL_GETCFN, fn);
}

// Whether a stdio input stream holds bytes already read from its descriptor (glibc's FILE):
// then the next line may need no read at all, so waiting on the descriptor would be wrong.
static inline int cel_input_buffered(FILE *file) {
    return file->_IO_read_ptr < file->_IO_read_end;
}

static inline void *cel_get_clientdata(EditLine *el) {
    void *data = NULL;
    if (el_get(el, EL_CLIENTDATA, &data) != 0) return NULL;
    return data;
}

// MARK: - History

static inline int cel_history_setsize(History *h, int size) {
    HistEvent ev;
    return history(h, &ev, H_SETSIZE, size);
}

static inline int cel_history_setunique(History *h, int unique) {
    HistEvent ev;
    return history(h, &ev, H_SETUNIQUE, unique);
}

static inline int cel_history_enter(History *h, const char *line) {
    HistEvent ev;
    return history(h, &ev, H_ENTER, line);
}

static inline int cel_history_load(History *h, const char *path) {
    HistEvent ev;
    return history(h, &ev, H_LOAD, path);
}

static inline int cel_history_save(History *h, const char *path) {
    HistEvent ev;
    return history(h, &ev, H_SAVE, path);
}
