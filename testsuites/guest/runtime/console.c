/* console.c: COM1 output (16550 at 0x3F8, polled) and the printf family. */
#include "rt.h"

#define COM1 0x3F8
#define UART_THR 0
#define UART_IER 1
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define LSR_THRE 0x20

void vp_serial_init(void)
{
    outb(COM1 + UART_IER, 0x00);
    outb(COM1 + UART_LCR, 0x80); /* DLAB: divisor 1 = 115200 baud */
    outb(COM1 + 0, 0x01);
    outb(COM1 + 1, 0x00);
    outb(COM1 + UART_LCR, 0x03); /* 8N1 */
    outb(COM1 + UART_FCR, 0x07); /* FIFOs on and cleared */
    outb(COM1 + UART_MCR, 0x03); /* DTR, RTS; OUT2 off: no IRQ */
}

void putchar_serial(char c)
{
    /* Bounded: a missing or stuck UART must not hang the test. */
    for (int i = 0; i < 100000 && !(inb(COM1 + UART_LSR) & LSR_THRE); i++)
        pause();
    outb(COM1 + UART_THR, (uint8_t)c);
}

/* ---- Formatting ---- */

struct sink {
    char *buf;   /* NULL: to the serial port */
    size_t size; /* including the NUL */
    size_t len;  /* characters produced so far */
};

static void emit(struct sink *s, char c)
{
    if (!s->buf)
        putchar_serial(c);
    else if (s->len + 1 < s->size)
        s->buf[s->len] = c;
    s->len++;
}

static void emit_padded(struct sink *s, const char *prefix, const char *str, size_t n,
                        int width, bool left, char pad)
{
    size_t plen = strlen(prefix);
    int fill = width > (int)(n + plen) ? width - (int)(n + plen) : 0;
    if (!left && pad != '0')
        for (; fill > 0; fill--)
            emit(s, ' ');
    while (*prefix)
        emit(s, *prefix++);
    if (!left)
        for (; fill > 0; fill--)
            emit(s, '0');
    while (n--)
        emit(s, *str++);
    for (; fill > 0; fill--)
        emit(s, ' ');
}

static int format(struct sink *s, const char *fmt, va_list ap)
{
    char tmp[72];
    while (*fmt) {
        if (*fmt != '%') {
            emit(s, *fmt++);
            continue;
        }
        fmt++;
        bool left = false, alt = false;
        char pad = ' ';
        for (;; fmt++) {
            if (*fmt == '-')
                left = true;
            else if (*fmt == '0')
                pad = '0';
            else if (*fmt == '#')
                alt = true;
            else
                break;
        }
        int width = 0;
        if (*fmt == '*') {
            width = va_arg(ap, int);
            fmt++;
        } else {
            while (*fmt >= '0' && *fmt <= '9')
                width = width * 10 + (*fmt++ - '0');
        }
        int lng = 0; /* 0 int, 1 long, 2 long long/size_t/intmax */
        int shrt = 0;
        for (;; fmt++) {
            if (*fmt == 'l')
                lng++;
            else if (*fmt == 'z' || *fmt == 'j' || *fmt == 't')
                lng = 2;
            else if (*fmt == 'h')
                shrt++;
            else
                break;
        }
        char conv = *fmt ? *fmt++ : 0;
        unsigned base = 10;
        bool is_signed = false, upper = false;
        uint64_t u = 0;
        switch (conv) {
        case 'd':
        case 'i':
            is_signed = true;
            break;
        case 'u':
            break;
        case 'x':
            base = 16;
            break;
        case 'X':
            base = 16;
            upper = true;
            break;
        case 'o':
            base = 8;
            break;
        case 'p':
            base = 16;
            lng = 2;
            break;
        case 'c':
            tmp[0] = (char)va_arg(ap, int);
            emit_padded(s, "", tmp, 1, width, left, ' ');
            continue;
        case 's': {
            const char *str = va_arg(ap, const char *);
            if (!str)
                str = "(null)";
            emit_padded(s, "", str, strlen(str), width, left, ' ');
            continue;
        }
        case '%':
            emit(s, '%');
            continue;
        default: /* unknown: print it as written */
            emit(s, '%');
            if (conv)
                emit(s, conv);
            continue;
        }
        if (conv == 'p') {
            u = (uint64_t)(uintptr_t)va_arg(ap, void *);
        } else if (is_signed) {
            int64_t v = lng ? va_arg(ap, long long) : va_arg(ap, int);
            if (!lng && shrt == 1)
                v = (short)v;
            else if (!lng && shrt >= 2)
                v = (signed char)v;
            u = (uint64_t)v;
        } else {
            u = lng ? va_arg(ap, unsigned long long) : va_arg(ap, unsigned);
            if (!lng && shrt == 1)
                u = (unsigned short)u;
            else if (!lng && shrt >= 2)
                u = (unsigned char)u;
        }
        bool neg = is_signed && (int64_t)u < 0;
        if (neg)
            u = -u;
        const char *prefix = neg ? "-" : "";
        if ((alt && base == 16 && u) || conv == 'p')
            prefix = upper ? "0X" : "0x";
        else if (alt && base == 8 && u)
            prefix = "0";
        char *end = tmp + sizeof(tmp), *p = end;
        do {
            unsigned d = (unsigned)(u % base);
            *--p = (char)(d < 10 ? '0' + d : (upper ? 'A' : 'a') + d - 10);
            u /= base;
        } while (u);
        emit_padded(s, prefix, p, (size_t)(end - p), width, left, left ? ' ' : pad);
    }
    return (int)s->len;
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct sink s = {.buf = buf, .size = size};
    int n = format(&s, fmt, ap);
    if (size)
        buf[s.len < size ? s.len : size - 1] = 0;
    return n;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

int vprintf(const char *fmt, va_list ap)
{
    struct sink s = {0};
    return format(&s, fmt, ap);
}

int printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vprintf(fmt, ap);
    va_end(ap);
    return n;
}

int puts(const char *str)
{
    int n = 0;
    while (*str) {
        putchar_serial(*str++);
        n++;
    }
    putchar_serial('\n');
    return n + 1;
}
