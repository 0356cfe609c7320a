/*
 * Joining: b"".join(parts), the copying shared among threads (join).
 */

#include "kernels.h"

#ifndef _WIN32
#include <pthread.h>
#endif

/*
 * b"".join(parts), with the copying shared among `threads` threads: joining a whole
 * decoded file is a copy of its every byte, which would otherwise run on one core while
 * the other waits.  Each thread copies a contiguous run of parts.
 */
typedef struct {
    Py_buffer *views;
    Py_ssize_t first, last;  /* parts [first, last) */
    char *destination;  /* where part `first` goes */
} CopyJob;

static void *copy_parts(void *argument) {
    CopyJob *job = argument;
    char *at = job->destination;
    for (Py_ssize_t k = job->first; k < job->last; k++) {
        memcpy(at, job->views[k].buf, (size_t)job->views[k].len);
        at += job->views[k].len;
    }
    return NULL;
}

PyObject *hk_join(PyObject *self, PyObject *args) {
    PyObject *sequence;
    int threads;
    if (!PyArg_ParseTuple(args, "Oi", &sequence, &threads))
        return NULL;
    PyObject *parts = PySequence_Fast(sequence, "join() takes a sequence of bytes-like parts");
    if (!parts)
        return NULL;
    Py_ssize_t count = PySequence_Fast_GET_SIZE(parts), ready = 0, total = 0;
    PyObject *result = NULL;
    Py_buffer *views = PyMem_Calloc((size_t)(count ? count : 1), sizeof(Py_buffer));
    if (!views) {
        PyErr_NoMemory();
        goto done;
    }
    for (; ready < count; ready++) {
        if (PyObject_GetBuffer(PySequence_Fast_GET_ITEM(parts, ready), &views[ready],
                               PyBUF_SIMPLE) < 0)
            goto done;
        total += views[ready].len;
    }
    result = PyBytes_FromStringAndSize(NULL, total);
    if (!result)
        goto done;
    char *destination = PyBytes_AS_STRING(result);
    if (threads < 1)
        threads = 1;
    if (threads > 64)
        threads = 64;
    CopyJob jobs[64];
    int started = 0;
    Py_BEGIN_ALLOW_THREADS
    /* Cut the parts into `threads` runs of about equal bytes. */
    Py_ssize_t k = 0, done_bytes = 0;
    char *at = destination;
    for (int t = 0; t < threads && k < count; t++) {
        Py_ssize_t goal = total / threads * (t + 1), first = k;
        char *start = at;
        while (k < count && (done_bytes < goal || t == threads - 1)) {
            done_bytes += views[k].len;
            at += views[k].len;
            k++;
        }
        jobs[t] = (CopyJob){views, first, k, start};
        started = t + 1;
    }
#ifdef _WIN32
    for (int t = 0; t < started; t++)
        copy_parts(&jobs[t]);
#else
    pthread_t helpers[64];
    int spawned[64] = {0};
    for (int t = 1; t < started; t++)
        spawned[t] = pthread_create(&helpers[t], NULL, copy_parts, &jobs[t]) == 0;
    if (started)
        copy_parts(&jobs[0]);
    for (int t = 1; t < started; t++) {
        if (spawned[t])
            pthread_join(helpers[t], NULL);
        else
            copy_parts(&jobs[t]);  /* no thread to be had: copy it here */
    }
#endif
    Py_END_ALLOW_THREADS
done:
    for (Py_ssize_t i = 0; i < ready; i++)
        PyBuffer_Release(&views[i]);
    PyMem_Free(views);
    Py_DECREF(parts);
    return result;
}
